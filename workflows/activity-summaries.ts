// GPU activity outputs folded into one row per activity name: what lineage records as a stage's
// producer and GPU cost, and what stays constant-size across a fan-out's thousands of shards.
import type { ActivityRun } from '../contracts/gpu-activities';
import type { ActivitySummary } from '../contracts/lineage';

/** Folds the `run` that GPU activity outputs carry, added to `into` (not modified), sorted by name. */
export function summarizeRuns(outputs: readonly { run: ActivityRun }[], into: readonly ActivitySummary[] = []): ActivitySummary[] {
  const rows = outputs.map(({ run }) => ({
    activity: run.activity,
    count: 1,
    attempts: run.attempt,
    retries: run.attempt > 1 ? 1 : 0,
    seconds: run.seconds,
    gpu_seconds: run.gpu_seconds,
  }));
  return combineActivities(into, rows);
}

/** Adds summaries of the same activities up (child workflows, several measurements of one stage). */
export function combineActivities(...lists: readonly (readonly ActivitySummary[])[]): ActivitySummary[] {
  const rows = new Map<string, ActivitySummary>();
  for (const a of lists.flat()) {
    const row = rows.get(a.activity);
    rows.set(
      a.activity,
      row
        ? {
            activity: a.activity,
            count: row.count + a.count,
            attempts: row.attempts + a.attempts,
            retries: row.retries + a.retries,
            seconds: row.seconds + a.seconds,
            gpu_seconds: row.gpu_seconds + a.gpu_seconds,
          }
        : { ...a },
    );
  }
  return [...rows.values()].sort((a, b) => (a.activity < b.activity ? -1 : a.activity > b.activity ? 1 : 0));
}
