// Figures read from workflow histories: when each activity was scheduled, started and completed,
// how big the payloads are, how long the run took. Works on the client's fetchHistory() and on
// files exported by `temporal workflow show --output json` (through historyFromJSON).
import { readFileSync } from 'node:fs';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { temporal, type google } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Milliseconds since the epoch, keeping the nanoseconds (tsToMs rounds them off). */
export function eventMs(event: HistoryEvent): number {
  const t = event.eventTime as google.protobuf.ITimestamp | null | undefined;
  if (!t) throw new Error(`event ${String(event.eventId)} has no eventTime`);
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

export interface ActivityTiming {
  activityId: string;
  type: string;
  scheduledMs: number;
  startedMs?: number;
  completedMs?: number;
}

/** Each activity of one history with its schedule, start and completion times, in schedule order. */
export function activityTimings(history: History): ActivityTiming[] {
  const bySchedule = new Map<string, ActivityTiming>();
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      bySchedule.set(String(e.eventId), { activityId: scheduled.activityId ?? '', type: scheduled.activityType?.name ?? '', scheduledMs: eventMs(e) });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) bySchedule.get(String(started.scheduledEventId))!.startedMs = eventMs(e);
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) bySchedule.get(String(completed.scheduledEventId))!.completedMs = eventMs(e);
  }
  return [...bySchedule.values()];
}

/** Schedule-to-start of every started activity, ms. */
export const scheduleToStartMs = (timings: ActivityTiming[]) =>
  timings.filter((t) => t.startedMs !== undefined).map((t) => t.startedMs! - t.scheduledMs);

/** Completion of each activity to the scheduling of the next one, ms (a chain of sequential activities). */
export function completionToNextMs(timings: ActivityTiming[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < timings.length; i++) {
    const done = timings[i - 1]!.completedMs;
    if (done !== undefined) gaps.push(timings[i]!.scheduledMs - done);
  }
  return gaps;
}

/** First event to last event of the history, ms. */
export function wallMs(history: History): number {
  const events = history.events ?? [];
  if (events.length === 0) return 0;
  return eventMs(events[events.length - 1]!) - eventMs(events[0]!);
}

export const activityCount = (history: History) =>
  (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length;

/**
 * The largest payload of the history in bytes, as Temporal counts it against its limits (the encoded
 * Payloads message): workflow input and result, continue-as-new input, activity input and result,
 * child workflow input and result. `where` names the event that carried it.
 */
export function largestPayload(history: History): { bytes: number; where: string } {
  let best = { bytes: 0, where: 'none' };
  const consider = (payloads: temporal.api.common.v1.IPayloads | null | undefined, where: string) => {
    if (!payloads) return;
    const bytes = temporal.api.common.v1.Payloads.encode(payloads).finish().length;
    if (bytes > best.bytes) best = { bytes, where };
  };
  for (const e of history.events ?? []) {
    consider(e.workflowExecutionStartedEventAttributes?.input, 'workflow input');
    consider(e.workflowExecutionCompletedEventAttributes?.result, 'workflow result');
    consider(e.workflowExecutionContinuedAsNewEventAttributes?.input, 'continue-as-new input');
    consider(e.activityTaskScheduledEventAttributes?.input, `${e.activityTaskScheduledEventAttributes?.activityType?.name} input`);
    consider(e.activityTaskCompletedEventAttributes?.result, 'activity result');
    consider(e.startChildWorkflowExecutionInitiatedEventAttributes?.input, 'child workflow input');
    consider(e.childWorkflowExecutionCompletedEventAttributes?.result, 'child workflow result');
  }
  return best;
}

/** The run that continued this one as new, if it did. */
export const continuedAsNewRunId = (history: History): string | undefined =>
  (history.events ?? []).find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;

/** A history file: the CLI's JSON, or `{ workflowId, history }` as scripts/record-histories.ts saves it. */
export function readHistoryFile(file: string): History {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { history?: unknown; events?: unknown };
  return historyFromJSON(raw.events ? raw : raw.history);
}

export interface GapPhases {
  /** Activity completed → workflow task scheduled (the server reacting to the completion). */
  toTaskScheduled: number;
  /** Workflow task scheduled → started (matching: the task reaching a polling worker). */
  taskQueued: number;
  /** Workflow task started → completed (the worker running the workflow code and answering). */
  taskRun: number;
  /** Workflow task completed → next activity scheduled. */
  toNextScheduled: number;
}

/** Where each completion→next-schedule gap goes, phase by phase, ms. */
export function gapPhases(history: History): GapPhases[] {
  const events = history.events ?? [];
  const phases: GapPhases[] = [];
  const T = EventType;
  const next = (from: number, type: temporal.api.enums.v1.EventType) => events.findIndex((e, i) => i > from && e.eventType === type);
  events.forEach((e, i) => {
    if (e.eventType !== T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) return;
    const s = next(i, T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const st = next(s, T.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    const c = next(st, T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    const a = next(c, T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    if (s < 0 || st < 0 || c < 0 || a < 0) return;
    const t = (k: number) => eventMs(events[k]!);
    phases.push({ toTaskScheduled: t(s) - eventMs(e), taskQueued: t(st) - t(s), taskRun: t(c) - t(st), toNextScheduled: t(a) - t(c) });
  });
  return phases;
}
