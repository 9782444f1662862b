// What the chaos suite reads from Temporal while a campaign runs and after it ends: the pending
// activities of running workflows (with their last heartbeat) and each activity's attempts.
// The chaos stack runs without the payload codec, so payloads decode with the default converter.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Progress } from '../../../contracts/progress';

export interface PendingActivity {
  workflowId: string;
  activityId: string;
  activityType: string;
  attempt: number;
  /** Picked up by a worker (not just scheduled). */
  started: boolean;
  progress?: Progress;
}

const decode = <T>(payload: temporal.api.common.v1.IPayload | undefined | null): T | undefined =>
  payload ? (defaultPayloadConverter.fromPayload(payload as never) as T) : undefined;

/** Pending activities of the running workflows whose id starts with `prefix`. */
export async function pendingActivities(client: Client, prefix: string): Promise<PendingActivity[]> {
  const found: PendingActivity[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}" AND ExecutionStatus = "Running"` })) {
    const described = await client.workflow.getHandle(wf.workflowId).describe();
    for (const a of described.raw.pendingActivities ?? []) {
      found.push({
        workflowId: wf.workflowId,
        activityId: a.activityId ?? '',
        activityType: a.activityType?.name ?? '',
        attempt: a.attempt ?? 1,
        started: a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        progress: decode<Progress>(a.heartbeatDetails?.payloads?.[0]),
      });
    }
  }
  return found;
}

export interface ActivityOutcome {
  attempt: number;
  /** Type of the failure that ended the previous attempt (a timeout shows as its timeout type). */
  lastFailure?: string;
  lastFailureMessage?: string;
  result?: Record<string, unknown>;
}

/** How activity `activityId` of workflow `workflowId` ended: its final attempt, why the one before failed, its result. */
export async function activityOutcome(client: Client, workflowId: string, activityId: string): Promise<ActivityOutcome> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId);
  if (!scheduled) throw new Error(`chaos: activity ${activityId} not in the history of ${workflowId}`);
  const id = Number(scheduled.eventId);
  const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === id)?.activityTaskStartedEventAttributes;
  const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id)?.activityTaskCompletedEventAttributes;
  const failure = started?.lastFailure;
  return {
    attempt: started?.attempt ?? 1,
    lastFailure: failure ? (failure.applicationFailureInfo?.type ?? (failure.timeoutFailureInfo ? timeoutName(failure.timeoutFailureInfo.timeoutType) : failure.message ?? 'failure')) : undefined,
    lastFailureMessage: failure?.message ?? undefined,
    result: decode<Record<string, unknown>>(completed?.result?.payloads?.[0]),
  };
}

/** `heartbeat timeout`, from TIMEOUT_TYPE_HEARTBEAT. */
const timeoutName = (type: temporal.api.enums.v1.TimeoutType | null | undefined) =>
  `${(temporal.api.enums.v1.TimeoutType[type ?? 0] ?? 'unknown').replace('TIMEOUT_TYPE_', '').toLowerCase().replace('_', '-')} timeout`;

/** Every activity of every workflow under `prefix` that needed more than one attempt. */
export async function retriedActivities(client: Client, prefix: string): Promise<string[]> {
  const retried: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}"` })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const types = new Map<number, string>();
    for (const e of history.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) types.set(Number(e.eventId), s.activityType?.name ?? '?');
      const st = e.activityTaskStartedEventAttributes;
      if (st && (st.attempt ?? 1) > 1) retried.push(`${wf.workflowId}: ${types.get(Number(st.scheduledEventId))} attempt ${st.attempt}`);
    }
  }
  return retried;
}
