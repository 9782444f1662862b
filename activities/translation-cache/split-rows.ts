// Splits segment shards (parquet id, text) into rows the cache already translated and rows still to
// translate, by the sha256 of the source text: a row is found by what it says, not by the stage,
// shard or chunk that once carried it. DuckDB does the join; both sides are cut at `shardRows`.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type CorpusDb, sqlString, withCorpusDb } from '../corpus/corpus-db';

/** A cached translated shard on local disk (verified), with the pointer it came from. */
export interface CachedPart {
  path: string;
  /** Index into the caller's list of pointers: which part supplied each hit (lineage). */
  part: number;
}

export interface SplitRowsArgs {
  /** The segment shards, in order (parquet id, text). */
  segments: string[];
  parts: CachedPart[];
  shardRows: number;
  workDir: string;
}

export interface ShardFile {
  path: string;
  rows: number;
}

export interface SplitRowsResult {
  /** parquet id, text, translation: rows whose text the cache holds, in segment order. */
  hits: ShardFile[];
  /** parquet id, text: the rest, in segment order, each text once (its first row). */
  misses: ShardFile[];
  /** Rows not sent because an earlier row has the same text (filled once that one is translated). */
  duplicates: number;
  /** Hit rows by the part that supplied their translation. */
  hitsByPart: Map<number, number>;
  /** Parts DuckDB could not read as (text, translation) parquet: skipped, never trusted. */
  unreadable: number[];
}

export async function splitCachedRows(args: SplitRowsArgs): Promise<SplitRowsResult> {
  return withCorpusDb(args.workDir, async (db) => {
    await db.run('CREATE TABLE segments (id VARCHAR, text VARCHAR, shard INTEGER, r BIGINT)');
    for (const [k, file] of args.segments.entries()) {
      await db.run(`INSERT INTO segments SELECT id::VARCHAR, text::VARCHAR, ${k}, file_row_number FROM read_parquet(${sqlString(file)}, file_row_number = true)`);
    }
    await db.run('CREATE TABLE cache (key VARCHAR, translation VARCHAR, part INTEGER, r BIGINT)');
    const unreadable: number[] = [];
    for (const part of args.parts) {
      // A row whose translation is null was never translated (a quarantined row): it is not a cache entry.
      // One statement per part: a part that fails to read adds nothing and is only counted.
      await db
        .run(
          `INSERT INTO cache SELECT sha256(coalesce(text, '')), translation::VARCHAR, ${part.part}, file_row_number
             FROM read_parquet(${sqlString(part.path)}, file_row_number = true) WHERE translation IS NOT NULL`,
        )
        .catch(() => unreadable.push(part.part));
    }
    // One translation per text: the first part in pointer order (greedy decoding makes them agree anyway).
    // A missing text is sent once: its later rows are `duplicate`, filled from its translation after the fan-out.
    await db.run(`
      CREATE TABLE split AS
      WITH first_per_key AS (SELECT key, arg_min(translation, (part, r)) AS translation, arg_min(part, (part, r)) AS part FROM cache GROUP BY key),
      joined AS (
        SELECT s.id, s.text, s.shard, s.r, c.translation, c.part,
               row_number() OVER (PARTITION BY sha256(coalesce(s.text, '')) ORDER BY s.shard, s.r) AS occurrence
        FROM segments s LEFT JOIN first_per_key c ON c.key = sha256(coalesce(s.text, ''))),
      sided AS (SELECT *, CASE WHEN translation IS NOT NULL THEN 'hit' WHEN occurrence > 1 THEN 'duplicate' ELSE 'miss' END AS side FROM joined)
      SELECT id, text, translation, part, side, row_number() OVER (PARTITION BY side ORDER BY shard, r) - 1 AS seq FROM sided`);
    const hits = await writeShards(db, path.join(args.workDir, 'hits'), 'id, text, translation', `side = 'hit'`, args.shardRows);
    const misses = await writeShards(db, path.join(args.workDir, 'misses'), 'id, text', `side = 'miss'`, args.shardRows);
    const duplicates = await db.count(`SELECT 1 FROM split WHERE side = 'duplicate'`);
    const byPart = await db.rows(`SELECT part, count(*) AS n FROM split WHERE side = 'hit' GROUP BY part`);
    return { hits, misses, duplicates, hitsByPart: new Map(byPart.map((row) => [Number(row.part), Number(row.n)])), unreadable };
  });
}

/** The rows of one side, in segment order, in files of at most `shardRows` (seq counts within the side). */
async function writeShards(db: CorpusDb, dir: string, columns: string, where: string, shardRows: number): Promise<ShardFile[]> {
  const total = await db.count(`SELECT 1 FROM split WHERE ${where}`);
  if (total > 0) await mkdir(dir, { recursive: true });
  const shards: ShardFile[] = [];
  for (let shard = 0; shard * shardRows < total; shard++) {
    const file = path.join(dir, `shard-${String(shard).padStart(5, '0')}.parquet`);
    const rows = await db.writeParquet(
      `SELECT ${columns} FROM split WHERE ${where} AND seq // ${shardRows} = ${shard} ORDER BY seq`,
      file,
    );
    shards.push({ path: file, rows });
  }
  return shards;
}
