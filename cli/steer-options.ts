// `hala steer <campaign-id> <stage> limits | move`: change how a stage's pending activities are
// scheduled, through Temporal's UpdateActivityOptions, without touching the workflow. What the
// runner itself is told (supervision.stall_s, in the activity's input) cannot change this way.
import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { Recipe } from '../contracts/recipe';
import { NotSteerable } from './steer';
import { stageActivities } from './steer-stage';

export interface SteerOptions {
  /** Seconds without a heartbeat before an attempt times out. */
  heartbeatS?: number;
  /** Attempts in all (the retry policy's maximum_attempts). */
  retries?: number;
  /** The task queue later attempts are scheduled on. */
  queue?: string;
}

/** The task queue `to` names: a resource class of the recipe, else a task queue as written. */
export function queueOf(to: string, recipe: Recipe | undefined): string {
  const pool = recipe?.resources.classes[to];
  if (pool) return pool.queue;
  if (recipe) throw new NotSteerable(`the recipe has no resource class ${to}: ${Object.keys(recipe.resources.classes).join(', ') || 'none'}`);
  return to;
}

/** The request's options and mask; refused when there is nothing to change. */
export function optionsUpdate(o: SteerOptions) {
  const activityOptions: Record<string, unknown> = {};
  const paths: string[] = [];
  if (o.heartbeatS !== undefined) {
    if (!(o.heartbeatS > 0)) throw new NotSteerable(`--heartbeat-s must be > 0 (got ${o.heartbeatS})`);
    activityOptions.heartbeatTimeout = { seconds: Math.ceil(o.heartbeatS) };
    paths.push('heartbeat_timeout');
  }
  if (o.retries !== undefined) {
    if (!Number.isInteger(o.retries) || o.retries < 1) throw new NotSteerable(`--retries must be a whole number >= 1 (got ${o.retries})`);
    activityOptions.retryPolicy = { maximumAttempts: o.retries };
    paths.push('retry_policy.maximum_attempts');
  }
  if (o.queue !== undefined) {
    activityOptions.taskQueue = { name: o.queue };
    paths.push('task_queue.name');
  }
  if (paths.length === 0) throw new NotSteerable('nothing to change: give --heartbeat-s, --retries or --to');
  return { activityOptions, updateMask: { paths } };
}

/** Apply `o` to every pending activity of the stage (its fan-outs' too); one sentence back. */
export async function updateStageOptions(client: Client, campaignId: string, stage: string, o: SteerOptions): Promise<string> {
  const update = optionsUpdate(o);
  const activities = await stageActivities(client, campaignId, stage);
  if (activities.length === 0) throw new NotSteerable(`stage ${stage} has no activity scheduled or running right now: nothing to change`);
  const identity = `hala steer (${os.userInfo().username}@${os.hostname()})`;
  for (const a of activities) {
    await client.workflowService.updateActivityOptions({
      namespace: client.options.namespace, execution: { workflowId: a.workflowId }, id: a.activityId, identity, ...update,
    });
  }
  const changed = [
    o.heartbeatS !== undefined ? `heartbeat timeout ${o.heartbeatS} s` : '',
    o.retries !== undefined ? `${o.retries} attempts in all` : '',
    // A running attempt stays where it runs: the queue is read when an attempt is scheduled.
    o.queue !== undefined ? `queue ${o.queue} from the next attempt (pause, then unpause, to move it now, resuming from its checkpoint)` : '',
  ].filter(Boolean);
  return `${activities.map((a) => a.activityId).join(', ')}: ${changed.join('; ')}`;
}
