/**
 * What a campaign may spend (recipe `budget`): `hala run` refuses a recipe whose plan is over it, and
 * the running campaign holds new stages once its measured spend reaches it, until someone raises it
 * (`hala approve <campaign> budget`). Scheduling, like `resources`: in no stage key, since a budget
 * changes when work runs, never what it computes.
 */
import { z } from 'zod';
import { Approval } from './gates';
import { fraction } from './numbers';

/** The gate name a budget raise is recorded under (approvals, lineage); no recipe gate may take it. */
export const BUDGET_GATE = 'budget';

export const Budget = z
  .strictObject({
    cost_usd: z
      .number()
      .positive()
      .optional()
      .describe("most the campaign's own GPU work may cost, at its classes' price_per_gpu_hour (cached stages cost nothing: another campaign paid)"),
    gpu_hours: z.number().positive().optional().describe('most GPU-hours the campaign\'s own GPU work may take, on any pool'),
    warn_at: fraction()
      .default(0.8)
      .describe('share of a cap at which the campaign warns (status, watch, the UI) that its projected spend nears it'),
  })
  .refine((b) => b.cost_usd !== undefined || b.gpu_hours !== undefined, 'set cost_usd, gpu_hours or both (a budget without a cap bounds nothing)')
  .optional()
  .describe('caps on what the campaign spends: hala run refuses a plan over them, and the campaign holds new stages at a cap until `hala approve <campaign> budget` raises it (absent: unbounded)');
export type Budget = z.infer<typeof Budget>;

/** A budget's caps; a cap absent is unbounded. */
export interface BudgetCaps {
  cost_usd?: number;
  gpu_hours?: number;
}

/** GPU-hours and cost, measured or planned; a figure absent is unknown (an unpriced pool, a blank estimate). */
export const Spend = z.object({ gpu_hours: z.number().nonnegative().optional(), cost_usd: z.number().nonnegative().optional() });
export type Spend = z.infer<typeof Spend>;

/** Each stage's figures of `hala plan`, by stage name: the campaign projects its spend with the running ones'. */
export const PlannedSpend = z.record(z.string(), Spend);
export type PlannedSpend = z.infer<typeof PlannedSpend>;

/** The `raise-budget` update's argument (`hala approve <campaign> budget --cost-usd N --gpu-hours N`): new caps, each above the one it replaces. */
export const RaiseBudgetInput = z.object({
  by: z.string(),
  note: z.string().optional(),
  cost_usd: z.number().optional(),
  gpu_hours: z.number().optional(),
});
export type RaiseBudgetInput = z.infer<typeof RaiseBudgetInput>;

/**
 * The budget in the campaign's progress. `spent`: the campaign's finished GPU work, priced as the
 * report prices it; `projected`: that plus the planned figures of the stages running now. `warning`:
 * the projection is past warn_at of a cap; `held`: the spend reached a cap and `held_stages` wait.
 */
export const BudgetReport = z.object({
  caps: z.object({ cost_usd: z.number().optional(), gpu_hours: z.number().optional() }),
  warn_at: z.number(),
  spent: z.object({ cost_usd: z.number(), gpu_hours: z.number() }),
  projected: z.object({ cost_usd: z.number(), gpu_hours: z.number() }),
  /** GPU-hours on pools without a price: in spent.gpu_hours, not in spent.cost_usd. */
  unpriced_gpu_hours: z.number(),
  state: z.enum(['under', 'warning', 'held']),
  held_stages: z.array(z.string()),
  /** Every raise, oldest first. */
  raises: z.array(Approval),
});
export type BudgetReport = z.infer<typeof BudgetReport>;
