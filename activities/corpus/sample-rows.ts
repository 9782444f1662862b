import { type ParquetSource, loadParquet, withCorpusDb } from './corpus-db';

/** Longest string a sampled cell keeps: a gate shows rows to read, not whole documents. */
export const MAX_SAMPLE_CHARS = 400;

/**
 * `n` rows of a parquet dataset, drawn by reservoir sampling with `seed` on one thread (so the same
 * file and seed give the same rows on every attempt), in file order, their long strings cut short.
 */
export async function sampleParquetRows(args: { source: ParquetSource; n: number; seed: number; workDir: string }): Promise<Record<string, unknown>[]> {
  if (args.n === 0) return [];
  return withCorpusDb(args.workDir, async (db) => {
    await db.run('SET threads = 1');
    await loadParquet(db, [args.source], 'sampled', []);
    const rows = await db.rows(
      `SELECT * EXCLUDE (ord) FROM (SELECT * FROM sampled USING SAMPLE reservoir(${Math.floor(args.n)} ROWS) REPEATABLE (${Math.floor(args.seed)})) ORDER BY ord`,
    );
    return rows.map((row) => shorten(row) as Record<string, unknown>);
  });
}

function shorten(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_SAMPLE_CHARS ? `${value.slice(0, MAX_SAMPLE_CHARS)}…` : value;
  if (Array.isArray(value)) return value.map(shorten);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v)]));
  return value;
}
