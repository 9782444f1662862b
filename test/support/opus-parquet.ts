import { DuckDBInstance } from '@duckdb/node-api';

/** Writes OPUS-layout pairs (`translation` {en, ar}), in the order given, to a parquet file. */
export async function writeOpusRows(file: string, pairs: readonly (readonly [string, string])[]): Promise<void> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    await db.run('CREATE TABLE t (i INTEGER, en VARCHAR, ar VARCHAR)');
    const appender = await db.createAppender('t');
    for (const [i, [en, ar]] of pairs.entries()) {
      appender.appendInteger(i);
      appender.appendVarchar(en);
      appender.appendVarchar(ar);
      appender.endRow();
    }
    appender.closeSync();
    await db.run(`COPY (SELECT {'en': en, 'ar': ar} AS translation FROM t ORDER BY i) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    db.closeSync();
  }
}

