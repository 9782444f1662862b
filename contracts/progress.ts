import { z } from 'zod';

/**
 * Heartbeat details of every long activity, TypeScript or Python. On a retry the activity reads
 * the last one back and resumes from `checkpoint_uri` (or after `done` units of work).
 */
export const Progress = z.object({
  /** What the activity is doing now: `load`, `train`, `translate`, `save`, ... */
  phase: z.string(),
  /** Units finished (steps, rows, tensors); `total` of the same unit. */
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** Newest durable checkpoint, if the work has one. */
  checkpoint_uri: z.string().nullable().default(null),
  /** Live figures worth showing an operator (loss, tokens/s). */
  metrics: z.record(z.string(), z.number()).default({}),
});
export type Progress = z.infer<typeof Progress>;
