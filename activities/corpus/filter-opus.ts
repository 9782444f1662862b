import path from 'node:path';
import type { FilterCounts, FilterOpusInput } from '../../contracts/cpu-activities';
import { type CorpusDb, type ParquetSource, withCorpusDb } from './corpus-db';
import { type LanguageCheckArgs, findWrongLanguage, withLanguageCheck } from './language-check';
import { loadOpusPairs, opusPairIdSql } from './opus-pairs';
import { nearDuplicateKeySql, scriptShareSql, trimmedSql } from './text-sql';

export type OpusFilterKnobs = FilterOpusInput['filters'];

export interface FilterOpusResult {
  /** parquet: id, source, target (trimmed), in source order */
  pairsPath: string;
  counts: FilterCounts;
  /** parquet: id, source, target, side, detected, confidence; only when language identification took pairs out */
  wrongLanguagePath?: string;
}

/**
 * DuckDB scans a parquet file one row group (~123K rows as DuckDB writes them) per thread, so 100K
 * pairs ran every filter regex on one core. A hash aggregate's result is read by all threads:
 * grouping by ord first spread them (judging 100K pairs: 0.38 s -> 0.25 s on 2 cores). Small inputs
 * only: for millions of pairs the aggregate would hold every text, and there are row groups enough.
 */
const SPREAD_BELOW = 250_000;
const SPREAD_PAIRS = '(SELECT ord, any_value(source) AS source, any_value(target) AS target FROM pairs GROUP BY ord)';

/** Buckets in the order the filters run; a pair lands in the first that rejects it, else `kept`. */
const REJECTIONS = [
  'empty',
  'identical',
  'too_short',
  'too_long',
  'length_ratio',
  'source_script',
  'target_script',
  'exact_duplicate',
  'near_duplicate',
  'source_language',
  'target_language',
] as const;

/**
 * Filters OPUS pairs (column `translation` {<source>, <target>}) and writes the survivors to
 * `<workDir>/pairs.parquet`. Every pair read is counted in exactly one bucket of FilterCounts.
 * Dedup keeps the first occurrence in source order; `near` dedup runs after `exact`. Language
 * identification (`languageId`) runs last, on the survivors only: it is the one filter that costs
 * per row in JavaScript, and a duplicate has its original's language anyway.
 */
export async function filterOpusPairs(args: {
  opus: ParquetSource;
  language: FilterOpusInput['language'];
  filters: OpusFilterKnobs;
  /** Absent: no identification (recipe language_id.check false). */
  languageId?: LanguageCheckArgs;
  workDir: string;
}): Promise<FilterOpusResult> {
  const { language, filters } = args;
  // Before any work: a model that cannot be loaded or does not know the languages is the recipe's error.
  return withLanguageCheck(args.languageId, (languageCheck) => withCorpusDb(args.workDir, async (db) => {
    // A view: the pairs are read once, by the statement below; copying them first cost a pass and a
    // table of text (spilled at 5M pairs).
    await loadOpusPairs(db, args.opus, language, filters.max_rows, 'view');
    const input = (await db.count('SELECT ord FROM pairs')) <= SPREAD_BELOW ? SPREAD_PAIRS : 'pairs';

    const nearKey = `${nearDuplicateKeySql('source')}, ${nearDuplicateKeySql('target')}`;
    const sourceShare = scriptShareSql('source', language.source_script);
    const targetShare = scriptShareSql('target', language.target_script);
    await db.run(
      `CREATE TEMP TABLE judged AS
       WITH trimmed AS (SELECT ord, ${trimmedSql('source')} AS source, ${trimmedSql('target')} AS target FROM ${input}),
       measured AS (SELECT *, coalesce(source, '') = '' OR coalesce(target, '') = '' AS is_empty FROM trimmed),
       sized AS (SELECT *, length(source) AS source_len, length(target) AS target_len FROM measured),
       verdicts AS (SELECT ord, source, target,
         CASE
           WHEN is_empty THEN 'empty'
           -- untranslated copies often differ from their source only in case
           WHEN lower(source) = lower(target) THEN 'identical'
           WHEN least(source_len, target_len) < $min_chars THEN 'too_short'
           WHEN greatest(source_len, target_len) > $max_chars THEN 'too_long'
           WHEN greatest(source_len, target_len) > $max_ratio * least(source_len, target_len) THEN 'length_ratio'
           ${sourceShare ? `WHEN ${sourceShare} < $min_script THEN 'source_script'` : ''}
           ${targetShare ? `WHEN ${targetShare} < $min_script THEN 'target_script'` : ''}
         END AS rejected_by
       FROM sized)
       -- Dedup groups by these 64-bit hashes, not by the texts (markDuplicates); filtered-out rows need none.
       SELECT *, CASE WHEN rejected_by IS NULL THEN hash(source, target) END AS exact_key,
         ${filters.dedup === 'near' ? `CASE WHEN rejected_by IS NULL THEN hash(${nearKey}) END` : 'NULL::UBIGINT'} AS near_key
       FROM verdicts`,
      {
        min_chars: filters.min_chars,
        max_chars: filters.max_chars,
        max_ratio: filters.max_length_ratio,
        min_script: filters.min_script_fraction,
      },
    );

    if (filters.dedup !== 'none') await markDuplicates(db, 'exact_key', 'source, target', 'exact_duplicate');
    if (filters.dedup === 'near') await markDuplicates(db, 'near_key', nearKey, 'near_duplicate');

    let wrongLanguagePath: string | undefined;
    if (languageCheck) {
      const { accept } = languageCheck;
      const sides = [
        { column: 'source', side: 'source', accept: accept.source! },
        { column: 'target', side: 'target', accept: accept.target! },
      ];
      const wrong = await findWrongLanguage(db, `SELECT ${opusPairIdSql('ord')} AS key, source, target FROM judged WHERE rejected_by IS NULL`, sides, languageCheck);
      await db.run(`UPDATE judged SET rejected_by = w.side || '_language' FROM wrong_language w WHERE ${opusPairIdSql('judged.ord')} = w.key`);
      if ((wrong.source ?? 0) + (wrong.target ?? 0) > 0) {
        wrongLanguagePath = path.join(args.workDir, 'wrong_language.parquet');
        await db.writeParquet(
          `SELECT ${opusPairIdSql('j.ord')} AS id, j.source, j.target, w.side, w.label AS detected, w.confidence
           FROM judged j JOIN wrong_language w ON w.key = ${opusPairIdSql('j.ord')} ORDER BY j.ord`,
          wrongLanguagePath,
        );
      }
    }

    const pairsPath = path.join(args.workDir, 'pairs.parquet');
    await db.writeParquet(`SELECT ${opusPairIdSql('ord')} AS id, source, target FROM judged WHERE rejected_by IS NULL ORDER BY ord`, pairsPath);

    const counts: FilterCounts = { read: 0, kept: 0, ...Object.fromEntries(REJECTIONS.map((r) => [r, 0])) } as FilterCounts;
    for (const row of await db.rows(`SELECT coalesce(rejected_by, 'kept') AS bucket, count(*) AS n FROM judged GROUP BY 1`)) {
      counts[row.bucket as keyof FilterCounts] = Number(row.n);
      counts.read += Number(row.n);
    }
    return { pairsPath, counts, ...(wrongLanguagePath ? { wrongLanguagePath } : {}) };
  }));
}

/**
 * Marks every surviving pair whose `textKey` was already seen earlier (in source order) as `bucket`.
 * The first of each key is its smallest ord. Grouping all rows by the texts themselves held every
 * key in the aggregate (spilled at 5M pairs); grouping by `hashKey`, a 64-bit hash of textKey, holds
 * 16 bytes a row. Only rows whose hash another row shares (the duplicates, a few percent) are then
 * grouped by text, so a hash collision between different texts can never make a pair a duplicate.
 */
async function markDuplicates(db: CorpusDb, hashKey: string, textKey: string, bucket: string): Promise<void> {
  await db.run(
    `CREATE OR REPLACE TEMP TABLE repeated AS
     WITH shared AS (SELECT ${hashKey} AS h FROM judged WHERE rejected_by IS NULL GROUP BY h HAVING count(*) > 1),
     -- only these carry text: a CTE used twice is materialised, and with every live row's text it grew RSS by 300 MB at 1M pairs
     candidates AS (SELECT ord, source, target FROM judged WHERE rejected_by IS NULL AND ${hashKey} IN (SELECT h FROM shared))
     SELECT ord FROM candidates WHERE ord NOT IN (SELECT min(ord) FROM candidates GROUP BY ${textKey})`,
  );
  await db.run(`UPDATE judged SET rejected_by = '${bucket}' WHERE ord IN (SELECT ord FROM repeated)`);
}
