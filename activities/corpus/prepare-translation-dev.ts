import path from 'node:path';
import { type ParquetSource, withCorpusDb } from './corpus-db';
import { type LanguagePair, loadOpusPairs } from './opus-pairs';
import { blankSql } from './text-sql';

export interface TranslationDevResult {
  /** parquet: id, text (source side) — the shard the translator translates */
  segmentsPath: string;
  /** parquet: id, reference (target side) — what BLEU / chrF++ compare against */
  referencesPath: string;
  rows: number;
}

/**
 * Takes the first `rows` pairs of a dev set (OPUS layout) and splits them into segments and
 * references sharing ids. Pairs with a blank side are skipped: an empty reference makes a sentence
 * score meaningless. Fewer pairs than asked is not an error; `rows` says how many there are.
 */
export async function prepareTranslationDevSet(args: {
  dev: ParquetSource;
  language: LanguagePair;
  rows: number;
  workDir: string;
}): Promise<TranslationDevResult> {
  return withCorpusDb(args.workDir, async (db) => {
    await loadOpusPairs(db, args.dev, args.language);
    await db.run(
      `CREATE TEMP TABLE dev AS
       SELECT ord, id, source, target FROM pairs
       WHERE NOT ${blankSql('source')} AND NOT ${blankSql('target')}
       ORDER BY ord LIMIT $rows`,
      { rows: args.rows },
    );
    const segmentsPath = path.join(args.workDir, 'dev-segments.parquet');
    const referencesPath = path.join(args.workDir, 'dev-references.parquet');
    const rows = await db.writeParquet('SELECT id, source AS text FROM dev ORDER BY ord', segmentsPath);
    await db.writeParquet('SELECT id, target AS reference FROM dev ORDER BY ord', referencesPath);
    return { segmentsPath, referencesPath, rows };
  });
}
