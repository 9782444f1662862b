import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type CorpusDb, type ParquetSource, withCorpusDb } from './corpus-db';
import { type ColumnMapping, type SourceFormat, loadConversationTurns } from './conversation-turns';
import { blankSql } from './text-sql';

export interface PrepareSegmentsOptions {
  format: SourceFormat;
  /** Column names for format `columns`. */
  columns?: ColumnMapping;
  /** The list column of sharegpt / messages rows, when not the format's usual one. */
  turnsColumn?: string;
  /** Rows whose `source` is one of these are left out and counted (excluded_source). */
  excludeSources?: string[];
  maxRows?: number;
  translateResponses: boolean;
  /** Leave out rows with a ``` fence in any turn (Hermes-3 in the report). */
  dropCode: boolean;
  /** A translatable turn longer than this (characters) quarantines its row. */
  maxSegmentChars: number;
  shardRows: number;
}

export interface SegmentShard {
  path: string;
  rows: number;
}

export interface PrepareSegmentsResult {
  /** parquet: row_id, turn, role, content, segment_id (null when the turn is kept as is) */
  rowsPath: string;
  /** parquet: id, text; at most shardRows segments each, in row order */
  shards: SegmentShard[];
  /** rows in rows.parquet (one per turn) */
  turnCount: number;
  /** conversations kept */
  rowCount: number;
  segmentCount: number;
  /** rows left out, by reason (zero reasons omitted) */
  quarantined: Record<string, number>;
  /** parquet: source_row, row_id, reason; only when something was quarantined */
  quarantinePath?: string;
}

/**
 * Why a row is left out, first match wins. Checked per source row, so one bad turn removes the
 * whole conversation (a half-translated conversation would teach the wrong thing). A row of an
 * excluded subset is that and nothing else, so its count is the subset's size.
 */
const QUARANTINE_REASONS = `
  CASE
    WHEN c.excluded THEN 'excluded_source'
    WHEN c.row_id IS NULL OR c.row_id = '' THEN 'missing_id'
    WHEN c.id_seen > 1 THEN 'duplicate_id'
    WHEN t.turns IS NULL THEN 'empty'
    WHEN t.unknown_roles > 0 THEN 'unknown_role'
    WHEN t.blank_turns > 0 THEN 'empty'
    WHEN t.answers = 0 THEN 'no_answer'
    WHEN $drop_code AND t.code_turns > 0 THEN 'code'
    WHEN t.longest_segment > $max_segment_chars THEN 'segment_too_long'
  END`;

/**
 * Turns instruction rows into translation segments: `<workDir>/rows.parquet` (every turn, with the
 * id of its segment when it is to be translated) and `<workDir>/shards/shard-NNNNN.parquet`.
 * Segment ids are `<row_id>#<turn>`; order and ids depend only on the input, so a rerun matches.
 */
export async function prepareSegmentShards(
  args: { source: ParquetSource; workDir: string } & PrepareSegmentsOptions,
): Promise<PrepareSegmentsResult> {
  return withCorpusDb(args.workDir, async (db) => {
    await loadConversationTurns(db, args.source, args.format, {
      maxRows: args.maxRows,
      translateResponses: args.translateResponses,
      columns: args.columns,
      turnsColumn: args.turnsColumn,
      excludeSources: args.excludeSources,
    });
    // An id is a duplicate only among the rows kept by the subset filter.
    await db.run(
      `CREATE TEMP TABLE verdicts AS
       WITH ids AS (
         SELECT ord, row_id, excluded, row_number() OVER (PARTITION BY row_id, excluded ORDER BY ord) AS id_seen FROM conversations),
       per_row AS (
         SELECT ord, count(*) AS turns,
                count(*) FILTER (WHERE role IS NULL) AS unknown_roles,
                count(*) FILTER (WHERE role <> 'system' AND ${blankSql('content')}) AS blank_turns,
                count(*) FILTER (WHERE role = 'assistant') AS answers,
                count(*) FILTER (WHERE content LIKE '%\`\`\`%') AS code_turns,
                coalesce(max(length(content)) FILTER (WHERE translatable), 0) AS longest_segment
         FROM turns GROUP BY ord)
       SELECT c.ord, c.row_id, ${QUARANTINE_REASONS} AS reason
       FROM ids c LEFT JOIN per_row t USING (ord)`,
      { drop_code: args.dropCode, max_segment_chars: args.maxSegmentChars },
    );
    // A blank system prompt says nothing: it is left out of the conversation, as the columns
    // layouts leave out an empty system_prompt, rather than handed to the chat template empty.
    await db.run(
      `CREATE TEMP TABLE kept_turns AS
       SELECT t.ord, t.row_id, t.turn, t.role, t.content,
              CASE WHEN t.translatable AND NOT ${blankSql('t.content')} THEN t.row_id || '#' || t.turn END AS segment_id
       FROM turns t JOIN verdicts v ON v.ord = t.ord AND v.reason IS NULL
       WHERE NOT (t.role = 'system' AND ${blankSql('t.content')})`,
    );

    const rowsPath = path.join(args.workDir, 'rows.parquet');
    const turnCount = await db.writeParquet('SELECT row_id, turn, role, content, segment_id FROM kept_turns ORDER BY ord, turn', rowsPath);
    const rowCount = await db.count('SELECT ord FROM verdicts WHERE reason IS NULL');
    const shards = await writeShards(db, path.join(args.workDir, 'shards'), args.shardRows);

    const quarantined: Record<string, number> = {};
    for (const row of await db.rows('SELECT reason, count(*) AS n FROM verdicts WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 1')) {
      quarantined[String(row.reason)] = Number(row.n);
    }
    let quarantinePath: string | undefined;
    if (Object.keys(quarantined).length > 0) {
      quarantinePath = path.join(args.workDir, 'quarantine.parquet');
      await db.writeParquet(
        'SELECT ord AS source_row, row_id, reason FROM verdicts WHERE reason IS NOT NULL ORDER BY ord',
        quarantinePath,
      );
    }
    const segmentCount = shards.reduce((sum, s) => sum + s.rows, 0);
    return { rowsPath, shards, turnCount, rowCount, segmentCount, quarantined, quarantinePath };
  });
}

/**
 * Cuts the segments, in row order, into files of at most `shardRows`. The table is stored sorted by
 * `seq`, so DuckDB's per-row-group min/max lets each shard's COPY skip all but its own rows.
 */
async function writeShards(db: CorpusDb, dir: string, shardRows: number): Promise<SegmentShard[]> {
  await db.run(
    `CREATE TEMP TABLE segments AS
     SELECT segment_id AS id, content AS text, seq, (seq // $shard_rows)::INTEGER AS shard
     FROM (SELECT *, row_number() OVER (ORDER BY ord, turn) - 1 AS seq FROM kept_turns WHERE segment_id IS NOT NULL)
     ORDER BY seq`,
    { shard_rows: shardRows },
  );
  const [last] = await db.rows('SELECT max(shard) AS last FROM segments');
  const shardCount = last?.last === null || last?.last === undefined ? 0 : Number(last.last) + 1;
  if (shardCount > 0) await mkdir(dir, { recursive: true });
  const shards: SegmentShard[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const shardPath = path.join(dir, `shard-${String(shard).padStart(5, '0')}.parquet`);
    const rows = await db.writeParquet(`SELECT id, text FROM segments WHERE shard = ${shard} ORDER BY seq`, shardPath);
    shards.push({ path: shardPath, rows });
  }
  return shards;
}
