// `hala steer <campaign-id> <stage> limits | move`: change how a stage's pending activities are
// scheduled, through Temporal's UpdateActivityOptions, without touching the workflow. The stall limit
// the runner is watched with travels in the activity's input, which this cannot change: it goes to the
// stage workflow instead (the steer-supervision signal), which its running activities ask (live_limits.py).
import type { Client } from '@temporalio/client';
import type { Recipe } from '../contracts/recipe';
import { NotSteerable } from './steer';
import { identity, stageActivities } from './steer-stage';
import { stageWorkflowId } from '../workflows/fan-out-ids';
import { steerSupervisionSignal } from '../workflows/definitions';

export interface SteerOptions {
  /** Seconds without a heartbeat before an attempt times out. */
  heartbeatS?: number;
  /** Attempts in all (the retry policy's maximum_attempts). */
  retries?: number;
  /** The task queue later attempts are scheduled on. */
  queue?: string;
  /** Seconds without progress before a runner counts as hung; the running attempt's watchdog follows it too. */
  stallS?: number;
}

/** The task queue `to` names: a resource class of the recipe, else a task queue as written. */
export function queueOf(to: string, recipe: Recipe | undefined): string {
  const pool = recipe?.resources.classes[to];
  if (pool) return pool.queue;
  if (recipe) throw new NotSteerable(`the recipe has no resource class ${to}: ${Object.keys(recipe.resources.classes).join(', ') || 'none'}`);
  return to;
}

/** The request's options and mask; undefined when only the stall limit changes; refused when there is nothing to change. */
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
  if (o.stallS !== undefined && !(o.stallS > 0)) throw new NotSteerable(`--stall-s must be > 0 (got ${o.stallS})`);
  if (paths.length === 0 && o.stallS === undefined) throw new NotSteerable('nothing to change: give --heartbeat-s, --retries, --stall-s or --to');
  return paths.length > 0 ? { activityOptions, updateMask: { paths } } : undefined;
}

/** Apply `o` to every pending activity of the stage (its fan-outs' too); one sentence back. */
export async function updateStageOptions(client: Client, campaignId: string, stage: string, o: SteerOptions): Promise<string> {
  const update = optionsUpdate(o);
  const activities = await stageActivities(client, campaignId, stage);
  if (activities.length === 0) throw new NotSteerable(`stage ${stage} has no activity scheduled or running right now: nothing to change`);
  for (const a of update ? activities : []) {
    await client.workflowService.updateActivityOptions({
      namespace: client.options.namespace, execution: { workflowId: a.workflowId }, id: a.activityId, identity: identity(), ...update,
    });
  }
  // The stage workflow keeps it; fan-out shards (short, many) keep the recipe's.
  if (o.stallS !== undefined) await client.workflow.getHandle(stageWorkflowId(campaignId, stage)).signal(steerSupervisionSignal, { stall_s: o.stallS });
  const changed = [
    o.heartbeatS !== undefined ? `heartbeat timeout ${o.heartbeatS} s` : '',
    o.retries !== undefined ? `${o.retries} attempts in all` : '',
    o.stallS !== undefined ? `stall limit ${o.stallS} s (a running runner's watchdog takes it within 15 s)` : '',
    // A running attempt stays where it runs: the queue is read when an attempt is scheduled.
    o.queue !== undefined ? `queue ${o.queue} from the next attempt (pause, then unpause, to move it now, resuming from its checkpoint)` : '',
  ].filter(Boolean);
  return `${activities.map((a) => a.activityId).join(', ')}: ${changed.join('; ')}`;
}
