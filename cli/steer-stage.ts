// Steering one running stage: `hala steer <campaign-id> <stage> pause | unpause`. Campaign-level
// `hala pause` (steer.ts) lets running work finish; this parks the work itself. It pauses the
// stage's pending activities through Temporal's PauseActivity: the Python worker then checkpoints
// the runner at its current step and ends the attempt (gpu-runners/hala_runners/steering.py), so
// nothing holds the GPUs while paused. UnpauseActivity schedules the next attempt, which resumes
// from the checkpoint the last heartbeat names.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { fanOutWorkflowId, stageWorkflowId } from '../workflows/fan-out-ids';
import { NotSteerable } from './steer';

type Pending = temporal.api.workflow.v1.IPendingActivityInfo;
type Described = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;

/** One pending activity and the workflow (the stage, or one of its fan-outs) that scheduled it. */
export interface StageActivity {
  workflowId: string;
  activityId: string;
  type: string;
  paused: boolean;
}

export const steerActions = ['pause', 'unpause'] as const;
export type SteerAction = (typeof steerActions)[number];

const { PendingActivityState } = temporal.api.enums.v1;
const pausedStates = new Set([PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED, PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED]);

export function isPaused(a: Pending): boolean {
  return Boolean(a.paused) || pausedStates.has(a.state ?? 0);
}

async function describeRaw(client: Client, workflowId: string): Promise<{ running: boolean; raw: Described } | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return { running: d.status.name === 'RUNNING', raw: d.raw };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** The stage's pending activities, its translation fan-outs' included; refused when the stage does not run. */
export async function stageActivities(client: Client, campaignId: string, stage: string): Promise<StageActivity[]> {
  const workflowId = stageWorkflowId(campaignId, stage);
  const described = await describeRaw(client, workflowId);
  if (!described) throw new NotSteerable(`no stage ${stage} in campaign ${campaignId} (no workflow ${workflowId}; hala status ${campaignId} lists the stages)`);
  if (!described.running) throw new NotSteerable(`stage ${stage} of ${campaignId} is not running: only a running stage can be steered`);
  const prefix = fanOutWorkflowId(workflowId);
  const fanOuts = (described.raw.pendingChildren ?? []).map((c) => c.workflowId ?? '').filter((id) => id.startsWith(prefix));
  const children = await Promise.all(fanOuts.map(async (id) => ({ id, d: await describeRaw(client, id) })));
  const all = [{ id: workflowId, d: described }, ...children];
  return all.flatMap(({ id, d }) =>
    (d?.running ? d.raw.pendingActivities ?? [] : []).map((a) => ({
      workflowId: id,
      activityId: a.activityId ?? '',
      type: a.activityType?.name ?? '?',
      paused: isPaused(a),
    })),
  );
}

/** The activities `action` applies to, or the sentence that says why there are none. */
export function targetsOf(action: SteerAction, stage: string, activities: StageActivity[]): StageActivity[] {
  if (activities.length === 0) throw new NotSteerable(`stage ${stage} has no activity scheduled or running right now: nothing to ${action}`);
  const targets = activities.filter((a) => a.paused === (action === 'unpause'));
  if (targets.length === 0) {
    throw new NotSteerable(action === 'pause' ? `stage ${stage} is already paused (hala steer ... unpause lets it go on)` : `stage ${stage} is not paused`);
  }
  return targets;
}

/** Who steered, as the server records it beside each pause, unpause and options change. */
export const identity = () => `hala steer (${os.userInfo().username}@${os.hostname()})`;

/** Pause or unpause every pending activity of the stage that is not so already; one sentence back. */
export async function steerStage(client: Client, campaignId: string, stage: string, action: SteerAction): Promise<string> {
  const targets = targetsOf(action, stage, await stageActivities(client, campaignId, stage));
  const { namespace } = client.options;
  for (const a of targets) {
    const execution = { workflowId: a.workflowId };
    if (action === 'pause') {
      await client.workflowService.pauseActivity({
        namespace, execution, id: a.activityId, identity: identity(), requestId: randomUUID(),
        reason: `hala steer ${campaignId} ${stage} pause`,
      });
    } else {
      // The server counted the paused attempt as a failed one (measured on server 1.32:
      // gpu-runners/tests/test_steering.py); resetting gives it back, so a pause never uses up the
      // retry policy. It forgives the attempts failed before the pause too: the price of that.
      await client.workflowService.unpauseActivity({ namespace, execution, id: a.activityId, identity: identity(), resetAttempts: true });
    }
  }
  const names = targets.map((a) => `${a.type} ${a.activityId}${a.workflowId.endsWith(`/${stage}`) ? '' : ` (${a.workflowId})`}`).join(', ');
  return action === 'pause'
    ? `pausing ${names}: a running runner checkpoints at its current step and stops; nothing runs until hala steer ${campaignId} ${stage} unpause`
    : `unpaused ${names}: the next attempt resumes from the last checkpoint`;
}
