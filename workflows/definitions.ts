// Signals and queries of the campaign workflow, defined once by name.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CampaignProgress } from '../contracts/campaign';

/** Stop starting new stages and new translation shards; running activities finish. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const progressQuery = defineQuery<CampaignProgress>('progress');
