// Rows that fail alone, summed over a fan-out: what it carries, and when the stage fails.
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { TranslateShardOutput } from '../../contracts/gpu-activities';
import { QUARANTINE_REFS_KEPT, addQuarantined, checkErrorRate } from '../../workflows/quarantine-rate';

const shard = (i: number, quarantined_rows?: number): TranslateShardOutput => ({
  translations: { uri: `file:///o/shard-${i}/translations.parquet`, sha256: 'a'.repeat(64), kind: 'dataset', bytes: 1 },
  rows: 100, generated_tokens: 1, seconds: 1, tokens_per_second: 1, engine: 'vllm', resumed_rows: 0, engine_batch_size: 8, oom_halvings: 0,
  ...(quarantined_rows === undefined ? {} : { quarantined_rows }),
  ...(quarantined_rows ? { quarantine: { uri: `file:///o/shard-${i}/quarantine.parquet`, sha256: 'b'.repeat(64), kind: 'dataset' as const, bytes: 1 } } : {}),
});
const bound = { max_error_rate: 0.01, field: 'generation.translator.max_error_rate', output_prefix: 'file:///o' };

describe('quarantine totals', () => {
  it('sums rows and shards, keeps only the first files, and reads a result without the count as 0', () => {
    const first = addQuarantined(undefined, [shard(0, 2), shard(1, 0), shard(2)]);
    expect(first).toEqual({ quarantined_rows: 2, quarantined_shards: 1, quarantine: [expect.objectContaining({ uri: 'file:///o/shard-0/quarantine.parquet' })] });
    const many = addQuarantined(first, Array.from({ length: 20 }, (_, i) => shard(i + 3, 1)));
    expect(many.quarantined_rows).toBe(22);
    expect(many.quarantined_shards).toBe(21);
    expect(many.quarantine).toHaveLength(QUARANTINE_REFS_KEPT);
  });

  it('lets a fan-out at or under the bound complete, and fails one over it naming rate, bound, count and files', () => {
    expect(() => checkErrorRate(1000, addQuarantined(undefined, [shard(0, 10)]), bound)).not.toThrow(); // exactly 0.01
    expect(() => checkErrorRate(0, addQuarantined(undefined, []), { ...bound, max_error_rate: 0 })).not.toThrow();
    const over = addQuarantined(undefined, [shard(0, 6), ...Array.from({ length: 12 }, (_, i) => shard(i + 1, 1))]);
    let failure: unknown;
    try {
      checkErrorRate(1000, over, bound);
    } catch (e) {
      failure = e;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'TooManyFailedRows', nonRetryable: true });
    const message = (failure as Error).message;
    expect(message).toContain('18 of 1000 rows failed alone and were quarantined (error rate 0.0180), over generation.translator.max_error_rate 0.01');
    expect(message).toContain('file:///o/shard-0/quarantine.parquet');
    expect(message).toContain('and 3 more shard(s) (file:///o/shard-*/quarantine.parquet)');
  });
});
