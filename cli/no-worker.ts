// "No worker on <queue> for N min": a stage whose activity has waited past a threshold for a
// worker, on a queue nobody polls, says so instead of waiting silently. Shared by `hala status`
// and `hala watch`; the pollers come from the same task-queue description as `hala workers`.
import type { Client } from '@temporalio/client';
import type { CampaignProgress } from '../contracts/campaign';
import { pendingWork, type StageWork } from './pending-work';
import { queueWorkers } from '../platform/task-queue-pollers';

/** Default wait before an unpicked activity on an unpolled queue is reported (`--no-worker-after`). */
export const defaultNoWorkerAfterMinutes = 5;

export interface NoWorker {
  stage: string;
  queue: string;
  activity: string;
  /** How long its activity has been scheduled and not started. */
  waiting_s: number;
}

/**
 * Stages with an activity scheduled (not started) for longer than `afterMs` on a queue that has no
 * poller now. A scheduled time in the future is a retry's backoff, not a wait for a worker.
 */
export async function findNoWorker(client: Client, namespace: string, work: StageWork[], afterMs: number, now = Date.now()): Promise<NoWorker[]> {
  const waiting = work.flatMap((s) =>
    s.pending
      .filter((p) => p.state === 'scheduled' && p.queue !== undefined && p.scheduled_at !== undefined && now - p.scheduled_at.getTime() > afterMs)
      .map((p) => ({ stage: s.stage, queue: p.queue!, activity: p.activity, waiting_s: Math.floor((now - p.scheduled_at!.getTime()) / 1000) })),
  );
  if (waiting.length === 0) return [];
  const queues = [...new Set(waiting.map((w) => w.queue))];
  // Keyed by anything but "cpu": these are activity queues, so their activity pollers count.
  const described = await queueWorkers(client, namespace, Object.fromEntries(queues.map((q) => [`activity:${q}`, q])));
  const unpolled = new Set(described.filter((d) => d.pollers.length === 0).map((d) => d.queue));
  // One line per stage: its longest wait.
  const byStage = new Map<string, NoWorker>();
  for (const w of waiting.filter((w) => unpolled.has(w.queue))) {
    if ((byStage.get(w.stage)?.waiting_s ?? -1) < w.waiting_s) byStage.set(w.stage, w);
  }
  return [...byStage.values()];
}

/** The running stages of a campaign that wait on a queue nobody polls (what `hala status` shows). */
export async function campaignNoWorker(client: Client, namespace: string, progress: CampaignProgress, afterMs: number): Promise<NoWorker[]> {
  return findNoWorker(client, namespace, await pendingWork(client, progress), afterMs);
}

/** `no worker on hala-gpu-train for 5 min` (seconds below a minute). */
export function noWorkerText(n: NoWorker): string {
  return `no worker on ${n.queue} for ${n.waiting_s < 60 ? `${n.waiting_s} s` : `${Math.floor(n.waiting_s / 60)} min`}`;
}

/** `--no-worker-after <minutes>`: a positive number of minutes (fractions allowed), else a clear error. */
export function parseNoWorkerAfter(value: string): number {
  const minutes = Number(value);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--no-worker-after must be a positive number of minutes (got ${JSON.stringify(value)}), e.g. --no-worker-after 5`);
  return minutes * 60_000;
}
