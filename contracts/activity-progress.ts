// What a running GPU activity tells the stage workflow that scheduled it (signal `activity-progress`,
// workflows/definitions.ts; sent by gpu-runners/hala_runners/stage_progress.py), so the stage's
// current details in the Temporal UI say what it is doing now. Plain data: workflow code imports it.

/** One progress report, computed by the activity from every runner event (not only the ones it sends). */
export interface ActivityProgress {
  activity: string;
  activity_id: string;
  attempt: number;
  phase: string;
  done: number;
  total: number;
  /** Units of `done` per second over the current phase; absent until it can be measured. */
  rate?: number;
  /** Seconds left in the current phase at that rate. */
  eta_s?: number;
  checkpoint_uri?: string | null;
  /** The runner's figures (loss, learning rate, tokens per second). */
  metrics: Record<string, number>;
  /** Seconds since this attempt started. */
  elapsed_s: number;
}

/** Defaults of the recipe's `timeouts.progress_s` and `timeouts.no_worker_s`. */
export const ProgressDefaults = { progress_s: 30, no_worker_s: 300 } as const;

/**
 * Limits an operator set on a running stage (`hala steer <campaign> <stage> limits --stall-s N`): its
 * workflow keeps them and answers the `supervision` query, which the Python activity asks every 15 s
 * (gpu-runners/hala_runners/live_limits.py). Unset fields leave the recipe's.
 */
export interface SupervisionOverrides {
  stall_s?: number;
}
