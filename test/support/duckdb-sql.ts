import { DuckDBInstance } from '@duckdb/node-api';

/** Runs one query on a fresh in-memory DuckDB: tests write and read their parquet fixtures with it. */
export async function sql(query: string): Promise<Record<string, unknown>[]> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    return (await db.runAndReadAll(query)).getRowObjectsJson();
  } finally {
    db.closeSync();
  }
}
