// Rows that fail alone, summed over a translation fan-out: a shard sets aside the rows its engine
// raised on (gpu-runners/hala_runners/runners/quarantine.py) and completes; the fan-out fails only
// when the share of such rows passes the recipe's generation.<model>.max_error_rate.
import { ApplicationFailure } from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifact';
import type { TranslateShardOutput } from '../contracts/gpu-activities';

/** Quarantine files carried across continue-as-new at most: enough to look at, a few KB whatever the shard count. */
export const QUARANTINE_REFS_KEPT = 10;

export interface QuarantineTotals {
  /** Rows with no translation, summed over shards. */
  quarantined_rows: number;
  /** Shards that quarantined any row. */
  quarantined_shards: number;
  /** The first shards' `quarantine.parquet` (id, text, error_type, error, attempts), up to QUARANTINE_REFS_KEPT. */
  quarantine: ArtifactRef[];
}

/** `before` plus these shards' quarantines (a result of an earlier build has no count: 0). */
export function addQuarantined(before: Partial<QuarantineTotals> | undefined, outputs: TranslateShardOutput[]): QuarantineTotals {
  const t: QuarantineTotals = { quarantined_rows: before?.quarantined_rows ?? 0, quarantined_shards: before?.quarantined_shards ?? 0, quarantine: [...(before?.quarantine ?? [])] };
  for (const o of outputs) {
    const n = o.quarantined_rows ?? 0;
    if (n === 0) continue;
    t.quarantined_rows += n;
    t.quarantined_shards += 1;
    if (o.quarantine && t.quarantine.length < QUARANTINE_REFS_KEPT) t.quarantine.push(o.quarantine);
  }
  return t;
}

export interface ErrorRateBound {
  /** The bound: generation.<model>.max_error_rate. */
  max_error_rate: number;
  /** The recipe field it comes from, named by the failure. */
  field: string;
  /** Where every shard's quarantine file lies: `<output_prefix>/shard-NNNNN/quarantine.parquet`. */
  output_prefix: string;
}

/**
 * Fail (TooManyFailedRows, non-retryable: the same rows fail the same way) when more than
 * `max_error_rate` of `rows` were quarantined; at or under the bound the fan-out completes.
 */
export function checkErrorRate(rows: number, q: QuarantineTotals, bound: ErrorRateBound): void {
  if (q.quarantined_rows === 0) return;
  const rate = q.quarantined_rows / Math.max(rows, 1);
  if (rate <= bound.max_error_rate) return;
  const more = q.quarantined_shards - q.quarantine.length;
  throw ApplicationFailure.create({
    type: 'TooManyFailedRows',
    nonRetryable: true,
    message:
      `${q.quarantined_rows} of ${rows} rows failed alone and were quarantined (error rate ${rate.toPrecision(3)}), ` +
      `over ${bound.field} ${bound.max_error_rate}. The rows, each with its error and attempts, are in ` +
      `${q.quarantine.map((r) => r.uri).join(', ')}${more > 0 ? ` and ${more} more shard(s)` : ''} ` +
      `(${bound.output_prefix}/shard-*/quarantine.parquet). Fix the rows or the template, or raise ${bound.field}.`,
  });
}
