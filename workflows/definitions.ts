// Signals, queries and updates of the campaign workflow, defined once by name.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActivityProgress, SupervisionOverrides } from '../contracts/activity-progress';
import type { CampaignProgress } from '../contracts/campaign';
import type { Approval, ApproveInput, ApproveResult } from '../contracts/gates';
import type { RaiseBudgetInput } from '../contracts/budget';

/** Stop starting new stages and new translation shards; running activities finish. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const progressQuery = defineQuery<CampaignProgress>('progress');
/**
 * Approve a gate the recipe declares (`hala approve`): its validator refuses an unknown gate, one not
 * reached yet or already approved, and an approval that names no approver.
 */
export const approveUpdate = defineUpdate<ApproveResult, [ApproveInput]>('approve');
/**
 * Raise the recipe's budget (`hala approve <campaign> budget`): stages held at a cap start. Its
 * validator refuses a campaign without a budget, no approver, no new cap, and a cap not above the old.
 */
export const raiseBudgetUpdate = defineUpdate<Approval, [RaiseBudgetInput]>('raise-budget');

/**
 * A GPU activity's progress, sent to the stage workflow that scheduled it (the Python Heartbeater,
 * gpu-runners/hala_runners/stage_progress.py names it too); the stage shows it in its current details.
 * A workflow of older code has no handler: the signal is buffered and ignored, nothing breaks.
 */
export const activityProgressSignal = defineSignal<[ActivityProgress]>('activity-progress');

/** A stage's steered limits (`hala steer ... limits --stall-s`): set by the signal, read by its running activities through the query. */
export const steerSupervisionSignal = defineSignal<[SupervisionOverrides]>('steer-supervision');
export const supervisionQuery = defineQuery<SupervisionOverrides>('supervision');
