import { type CorpusDb, type ParquetSource, loadParquet } from './corpus-db';

/**
 * Loads translated shards (parquet id, text, translation) into temp table `translated(id, text,
 * translation)`, one row per id: a shard written twice by a retried activity is harmless, the
 * first copy (in file order) wins. With no shards the table is simply empty.
 */
export async function loadTranslatedSegments(db: CorpusDb, shards: ParquetSource[]): Promise<void> {
  if (shards.length === 0) {
    await db.run('CREATE OR REPLACE TEMP TABLE translated (id VARCHAR, text VARCHAR, translation VARCHAR)');
    return;
  }
  await loadParquet(db, shards, 'translated_raw', [
    { name: 'id', expected: 'segment id, text' },
    { name: 'text', expected: 'the source text' },
    { name: 'translation', expected: 'the translated text' },
  ]);
  await db.run(
    `CREATE OR REPLACE TEMP TABLE translated AS
     SELECT CAST(id AS VARCHAR) AS id, CAST(text AS VARCHAR) AS text, CAST(translation AS VARCHAR) AS translation, ord
     FROM translated_raw
     QUALIFY row_number() OVER (PARTITION BY id ORDER BY ord) = 1`,
  );
  await db.run('DROP TABLE translated_raw');
}
