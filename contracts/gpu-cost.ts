// What GPU work cost: each activity's GPU-seconds at the price of the pool its role was placed on.
// One pricing for `hala report` (a finished campaign's stages) and the campaign itself (its budget),
// so the two never disagree on a stage's bill. Pure and deterministic: workflows import it.
import { GpuActivityTable } from './gpu-activities';
import type { ActivitySummary } from './lineage';
import type { Placement } from './placement';

export interface PricedWork {
  gpu_seconds: number;
  /** The cost of the priced GPU-seconds; those in `unpriced` are not in it. */
  cost: number;
  /** Activities whose GPU-seconds ran on a queue without a resource class, hence without a price: `name (role role queue)`. */
  unpriced: string[];
  unpriced_gpu_seconds: number;
}

export function priceActivities(activities: readonly ActivitySummary[], placement: Placement): PricedWork {
  let gpu_seconds = 0;
  let cost = 0;
  let unpriced_gpu_seconds = 0;
  const unpriced = new Set<string>();
  for (const a of activities) {
    gpu_seconds += a.gpu_seconds;
    if (a.gpu_seconds === 0) continue;
    const role = (GpuActivityTable as Record<string, { role: keyof Placement } | undefined>)[a.activity]?.role;
    const pool = role ? placement[role] : undefined;
    if (pool) {
      cost += (a.gpu_seconds / 3600) * pool.price_per_gpu_hour;
    } else {
      unpriced.add(`${a.activity} (${role ?? 'unknown'} role queue)`);
      unpriced_gpu_seconds += a.gpu_seconds;
    }
  }
  return { gpu_seconds, cost, unpriced: [...unpriced], unpriced_gpu_seconds };
}
