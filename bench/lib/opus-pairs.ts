import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Writes `n` synthetic OPUS-100-shaped pairs (column `translation` {en, ar}) to a parquet file.
 * English from md5 words, Arabic from a fixed alphabet; every 50th pair repeats an earlier one
 * exactly, as real data does, and a few in every 97 exercise each other filter: an empty side, an
 * untranslated copy, a too-long or lopsided side, Latin on the Arabic side, and a near duplicate
 * (the pair 7 rows back in upper case with punctuation and digits added).
 */
export async function writeOpusPairs(file: string, n: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const en = (k: string) => `'the word ' || regexp_replace(md5((${k})::varchar), '[0-9]', 'x', 'g') || ' is about cats and dogs'`;
  const ar = (k: string) => `'الكلمة ' || translate(md5((${k})::varchar), '0123456789abcdef', 'ابتثجحخدذرزسشصضط') || ' عن القطط والكلاب'`;
  try {
    await conn.run(`COPY (
      SELECT {'en': CASE v WHEN 0 THEN '  ' WHEN 4 THEN repeat(${en('k')}, 40) WHEN 5 THEN ${en('k')} || repeat(' and more', 12)
                           WHEN 6 THEN upper(${en('k - 7')}) || ' (2)!' ELSE ${en('k')} END,
              'ar': CASE v WHEN 1 THEN ${en('k')} WHEN 3 THEN 'al-kalima ' || md5(k::varchar)
                           WHEN 6 THEN ${ar('k - 7')} || '، ٣' ELSE ${ar('k')} END} AS translation
      FROM (SELECT i, i % (${n} - ${n} / 50) AS k, i % 97 AS v FROM range(${n}) t(i)) ORDER BY i
    ) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
  }
}
