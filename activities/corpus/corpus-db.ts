import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk, type DuckDBValue } from '@duckdb/node-api';
import { BadCorpusInput } from './bad-corpus-input';
import { expandLocalGlob, isGlob } from '../store/hub-source';

// One in-memory DuckDB per corpus job: DuckDB reads, filters, joins and writes the parquet; the
// TypeScript around it only decides what to ask. Spills go to the job's work dir, not /tmp.
// DuckDB's own default limit is 80% of the machine's RAM, so a 5M-pair corpus grew the CPU worker
// to 9 GB (bench/corpus.ts); a fixed limit makes it spill instead, at little cost in time.
// HALA_CORPUS_MEMORY_LIMIT (a DuckDB size: '2GB') raises it on a big worker.
const MEMORY_LIMIT = '512MB';

/** A parquet input: `path` is what DuckDB reads (local file or directory, or hf://…); `label` (the URI) is what errors name. */
export interface ParquetSource {
  path: string;
  label: string;
}

type Params = DuckDBValue[] | Record<string, DuckDBValue>;

export class CorpusDb {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(workDir: string): Promise<CorpusDb> {
    const instance = await DuckDBInstance.create(':memory:', {
      temp_directory: path.join(workDir, '.duckdb-spill'),
      memory_limit: process.env.HALA_CORPUS_MEMORY_LIMIT ?? MEMORY_LIMIT,
    });
    return new CorpusDb(instance, await instance.connect());
  }

  async run(sql: string, params?: Params): Promise<void> {
    await this.connection.run(sql, params);
  }

  /** Rows as plain JSON values (BIGINT arrives as a string: wrap counts in Number()). */
  async rows(sql: string, params?: Params): Promise<Record<string, unknown>[]> {
    return (await this.connection.runAndReadAll(sql, params)).getRowObjectsJson();
  }

  async count(sql: string, params?: Params): Promise<number> {
    const [row] = await this.rows(`SELECT count(*) AS n FROM (${sql})`, params);
    return Number(row?.n ?? 0);
  }

  /** Writes the result of `select` to a parquet file; returns its row count. */
  async writeParquet(select: string, dest: string, params?: Params): Promise<number> {
    const result = await this.connection.run(
      `COPY (${select}) TO ${sqlString(dest)} (FORMAT parquet, COMPRESSION zstd)`,
      params,
    );
    return Number(result.rowsChanged);
  }

  /**
   * The rows of `sql`, one DuckDB chunk (~2048 rows) at a time, as DuckDB produces them: a result
   * larger than memory is never held whole in JS. Nothing else may run on this db until it ends.
   */
  async *chunks(sql: string, params?: Params): AsyncGenerator<DuckDBValue[][]> {
    const result = await this.connection.stream(sql, params);
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) yield chunk.getRows();
  }

  /**
   * As chunks, DuckDB's chunks themselves: a caller that needs only some cells of a column (the keys
   * of the few rows judged wrong) reads those, not every value (each text costs a native call and a decode).
   */
  async *dataChunks(sql: string, params?: Params): AsyncGenerator<DuckDBDataChunk> {
    const result = await this.connection.stream(sql, params);
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) yield chunk;
  }

  /** Appends rows of text and numbers to an existing table, in its column order (DuckDB's appender: no SQL per row). */
  async append(table: string, rows: readonly (readonly (string | number)[])[]): Promise<void> {
    const appender = await this.connection.createAppender(table);
    try {
      for (const row of rows) {
        for (const value of row) {
          if (typeof value === 'number') appender.appendDouble(value);
          else appender.appendVarchar(value);
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /** Closes the instance too, not left to the garbage collector: its memory and spill files go now. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

export async function withCorpusDb<T>(workDir: string, work: (db: CorpusDb) => Promise<T>): Promise<T> {
  const db = await CorpusDb.open(workDir);
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

/** A SQL string literal; used where DuckDB takes no bound parameter (COPY targets, table functions). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The parquet files behind a source: a local directory means every *.parquet below it, a glob
 * (`train-*.parquet`) every file it matches, both in path order.
 */
async function parquetFiles(source: ParquetSource): Promise<string[]> {
  if (/^[a-z0-9]+:\/\//i.test(source.path)) return [source.path]; // hf:// and friends: DuckDB's business
  if (isGlob(source.path)) {
    const matched = await expandLocalGlob(source.path);
    if (matched.length === 0) throw new BadCorpusInput(`${source.label}: ${source.path} matches no file; check the pattern`);
    return matched;
  }
  const info = await stat(source.path).catch(() => undefined);
  if (!info) throw new BadCorpusInput(`${source.label}: no file at ${source.path}; check the URI or rerun the stage that writes it`);
  if (!info.isDirectory()) return [source.path];
  const entries = await readdir(source.path, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  if (files.length === 0) throw new BadCorpusInput(`${source.label}: directory ${source.path} holds no .parquet files`);
  return files;
}

/** Column names and DuckDB types of a source; unreadable files become BadCorpusInput naming the URI. */
export async function describeParquet(db: CorpusDb, source: ParquetSource): Promise<Map<string, string>> {
  const files = await parquetFiles(source);
  try {
    const rows = await db.rows(`DESCRIBE SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}])`);
    return new Map(rows.map((r) => [String(r.column_name), String(r.column_type)]));
  } catch (error) {
    throw new BadCorpusInput(
      `${source.label} is not a readable parquet file (${firstLine(error)}); re-export it as parquet or fix the URI`,
    );
  }
}

export interface RequiredColumn {
  name: string;
  /** What the column should hold, for the error message. */
  expected: string;
}

/**
 * Loads `sources` (one logical table, possibly many files) into temp table `table` with a 0-based
 * `ord` in file order (files sorted by path, rows in file order): the order every id and shard
 * derives from, so reruns give identical outputs. `limit` keeps the first rows only. The table's
 * own row order is not `ord`'s: order by it.
 * With `only`, the table holds the required columns and those of `only.optional` the files have,
 * nothing else: parquet is read by column, so a dataset's other columns (SCP-116K's three model
 * solutions, say) are neither fetched from the hub nor copied into the table.
 */
export async function loadParquet(
  db: CorpusDb,
  sources: ParquetSource[],
  table: string,
  required: RequiredColumn[],
  limit?: number,
  only?: { optional: string[] },
  /** 'view': nothing is copied, every read scans the files (for a table read once, as filter-opus's input). */
  kind: 'table' | 'view' = 'table',
): Promise<Map<string, string>> {
  let columns = new Map<string, string>();
  const present = new Set<string>();
  const files: string[] = [];
  for (const source of sources) {
    columns = await describeParquet(db, source);
    for (const name of columns.keys()) present.add(name);
    const absent = required.filter((c) => !columns.has(c.name));
    if (absent.length > 0) {
      throw new BadCorpusInput(
        `${source.label} lacks column${absent.length > 1 ? 's' : ''} ${absent.map((c) => `\`${c.name}\` (${c.expected})`).join(', ')}; ` +
          `it has ${[...columns.keys()].join(', ') || 'no columns'}: convert the file to that layout`,
      );
    }
    files.push(...(await parquetFiles(source)));
  }
  if (files.length === 0) throw new Error(`loadParquet(${table}): no sources given`);
  const list = `[${files.map(sqlString).join(', ')}]`;
  const scan = `read_parquet(${list}, filename = 'hala_source_file', file_row_number = true, union_by_name = true)`;
  const kept = only
    ? [...new Set([...required.map((c) => c.name), ...only.optional.filter((name) => present.has(name))])].map((c) => `s.${sqlIdentifier(c)}`).join(', ')
    : 's.* EXCLUDE (hala_source_file, file_row_number)';
  // ord = the rows of the files before (footer row counts, in path order) + the row's number in its
  // file. Numbering or ordering rows by a window or a sort would buffer whole rows, and DuckDB cannot
  // spill rows holding lists: 400K five-turn ShareGPT conversations (30 MB of parquet) ran out of
  // the 512 MB limit. So the table is left in scan order; readers of it order by ord themselves.
  await db.run(
    `CREATE OR REPLACE TEMP ${kind === 'view' ? 'VIEW' : 'TABLE'} ${table} AS
     WITH files AS (
       SELECT file_name, sum(num_rows) OVER (ORDER BY file_name) - num_rows AS first_ord FROM parquet_file_metadata(${list}))
     SELECT (f.first_ord + s.file_row_number)::BIGINT AS ord, ${kept}
     FROM ${scan} s JOIN files f ON f.file_name = s.hala_source_file
     ${limit === undefined ? '' : `WHERE f.first_ord + s.file_row_number < ${Math.floor(limit)}`}`,
  );
  // The join names files twice (footers, scan): should the two spellings ever differ, rows would
  // vanish without a word; their count is checked against the footers instead.
  const [footers] = await db.rows(`SELECT sum(num_rows) AS n FROM parquet_file_metadata(${list})`);
  const expected = Math.min(Number(footers?.n ?? 0), limit ?? Infinity);
  const loaded = await db.count(`SELECT ord FROM ${table}`);
  if (loaded !== expected) {
    throw new Error(`loadParquet(${table}): read ${loaded} rows of ${sources.map((s) => s.label).join(', ')}, whose footers hold ${expected}`);
  }
  return columns;
}

export function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0] ?? '';
}

/** A SQL identifier (column name from a recipe), quoted. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
