// Signals and queries of the campaign workflow, defined once by name.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ActivityProgress } from '../contracts/activity-progress';
import type { CampaignProgress } from '../contracts/campaign';

/** Stop starting new stages and new translation shards; running activities finish. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const progressQuery = defineQuery<CampaignProgress>('progress');

/**
 * A GPU activity's progress, sent to the stage workflow that scheduled it (the Python Heartbeater,
 * gpu-runners/hala_runners/stage_progress.py names it too); the stage shows it in its current details.
 * A workflow of older code has no handler: the signal is buffered and ignored, nothing breaks.
 */
export const activityProgressSignal = defineSignal<[ActivityProgress]>('activity-progress');
