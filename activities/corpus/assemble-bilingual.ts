import path from 'node:path';
import { BadCorpusInput } from './bad-corpus-input';
import { type ParquetSource, loadParquet, withCorpusDb } from './corpus-db';
import type { Language } from '../../contracts/recipe';
import { type DecontaminationArgs, decontaminate } from './decontaminate';
import { type LanguageCheckArgs, judgeTranslations, withLanguageCheck } from './language-check';
import { blankSql } from './text-sql';
import { loadTranslatedSegments } from './translated-segments';

export interface AssembleBilingualResult {
  /** parquet: id, messages [user prompt, assistant translation], shuffled with the seed */
  datasetPath: string;
  /** usable pairs, before directions */
  pairs: number;
  examples: number;
  /** pairs by origin (`opus`, `open_orca`); sums to `pairs` */
  byOrigin: Record<string, number>;
  /** teacher segments left out because their translation was blank */
  untranslated: number;
  /** pairs taken out because a side repeats an evaluation text, by the evaluation set matched */
  decontaminated: Record<string, number>;
  /** parquet: id (origin:pair id), eval_set, eval_sets, gram; only when something was taken out */
  decontaminatedPath?: string;
  /** teacher segments left out because their translation is in another language (none without a check) */
  wrongLanguage: number;
  /** parquet: id (open_orca:segment id), text, translation, detected, confidence; only when something was left out */
  wrongLanguagePath?: string;
}

/** The user turn for one direction: `{target_name}` (and `{source_name}`) filled now, `{text}` in SQL. */
function directionTemplate(template: string, fromName: string, toName: string): string {
  return template.replaceAll('{target_name}', toName).replaceAll('{source_name}', fromName);
}

/**
 * The translator's training set: OPUS pairs and teacher-translated Open-Orca segments, each a
 * one-turn chat (user = prompt_template around the source text, assistant = the translation). With
 * `bothDirections` every pair also yields the reverse prompt (target text → source language).
 * Ids are `<origin>:<pair id>:<from>-<to>`; the order is md5(seed:id), stable across runs and engines.
 */
export async function assembleBilingualCorpus(args: {
  opusPairs: ParquetSource;
  teacherTranslations: ParquetSource[];
  language: Pick<Language, 'source' | 'target' | 'source_name' | 'target_name'>;
  bothDirections: boolean;
  promptTemplate: string;
  seed: number;
  /** Checks both sides of every pair against the evaluation sets. */
  decontamination?: DecontaminationArgs;
  /** Checks the teacher's translations for the target language (the OPUS pairs were checked by filter-opus). */
  languageId?: LanguageCheckArgs;
  workDir: string;
}): Promise<AssembleBilingualResult> {
  const { language } = args;
  if (!args.promptTemplate.includes('{text}')) {
    throw new BadCorpusInput(
      `prompt_template ${JSON.stringify(args.promptTemplate)} has no {text} placeholder; add one where the text goes`,
    );
  }
  return withLanguageCheck(args.languageId, (languageCheck) => withCorpusDb(args.workDir, async (db) => {
    await loadParquet(db, [args.opusPairs], 'opus', [
      { name: 'id', expected: 'pair id' },
      { name: 'source', expected: `${language.source_name} text` },
      { name: 'target', expected: `${language.target_name} text` },
    ], undefined, undefined, 'view'); // read once, into `bilingual`
    await loadTranslatedSegments(db, args.teacherTranslations);
    await judgeTranslations(db, languageCheck);
    // Without decontamination nothing is deleted from it: a view, read by the shuffle as it sorts,
    // rather than one more copy of every text (spilled to disk at 5M pairs).
    await db.run(
      `CREATE TEMP ${args.decontamination ? 'TABLE' : 'VIEW'} bilingual AS
       SELECT 'opus' AS origin, CAST(id AS VARCHAR) AS id, CAST(source AS VARCHAR) AS source, CAST(target AS VARCHAR) AS target
       FROM opus WHERE NOT ${blankSql('source')} AND NOT ${blankSql('target')}
       UNION ALL
       SELECT 'open_orca', id, text, translation
       FROM translated WHERE NOT ${blankSql('text')} AND NOT ${blankSql('translation')} AND id NOT IN (SELECT key FROM wrong_language)`,
    );
    // Blank translations are `untranslated`; the wrong-language ones among the rest are counted and kept here.
    const wrongLanguage = await db.count(`SELECT key FROM wrong_language w JOIN translated s ON s.id = w.key WHERE NOT ${blankSql('s.text')}`);
    let wrongLanguagePath: string | undefined;
    if (wrongLanguage > 0) {
      wrongLanguagePath = path.join(args.workDir, 'wrong_language.parquet');
      await db.writeParquet(
        `SELECT 'open_orca:' || s.id AS id, s.text, s.translation, w.label AS detected, w.confidence
         FROM translated s JOIN wrong_language w ON w.key = s.id WHERE NOT ${blankSql('s.text')} ORDER BY s.ord`,
        wrongLanguagePath,
      );
    }
    const { decontaminated, decontaminatedPath } = await decontaminate(
      db,
      args.decontamination,
      `SELECT origin || ':' || id AS row_key, source AS text FROM bilingual UNION ALL SELECT origin || ':' || id, target FROM bilingual`,
      args.workDir,
    );
    if (decontaminatedPath) await db.run(`DELETE FROM bilingual WHERE origin || ':' || id IN (SELECT row_key FROM contaminated)`);
    const forward = { from: language.source, to: language.target, fromName: language.source_name, toName: language.target_name, user: 'source', answer: 'target' };
    const reverse = { from: language.target, to: language.source, fromName: language.target_name, toName: language.source_name, user: 'target', answer: 'source' };
    const params: Record<string, string> = { seed: String(args.seed) };
    const directions = (args.bothDirections ? [forward, reverse] : [forward]).map((d, i) => {
      params[`prompt${i}`] = directionTemplate(args.promptTemplate, d.fromName, d.toName);
      params[`suffix${i}`] = `:${d.from}-${d.to}`;
      return `SELECT origin || ':' || id || $suffix${i} AS id, ${i} AS direction, ${d.user} AS question, ${d.answer} AS answer FROM bilingual`;
    });
    // The shuffle sorts plain text columns; each row's messages (a list of structs: a costlier sort
    // payload, and one more table of every text) are built from them as the sorted rows stream out.
    // An ORDER BY in a subquery keeps its order through a projection: the digest bench/corpus.ts checks, row by row, would show otherwise.
    const prompt = `CASE direction ${directions.map((_, i) => `WHEN ${i} THEN $prompt${i}`).join(' ')} END`;
    const datasetPath = path.join(args.workDir, 'bilingual.parquet');
    const examples = await db.writeParquet(
      `SELECT id, [struct_pack(role := 'user', content := replace(${prompt}, '{text}', question)),
                   struct_pack(role := 'assistant', content := answer)] AS messages
       FROM (SELECT * FROM (${directions.join(' UNION ALL ')}) ORDER BY md5($seed || ':' || id), id)`,
      datasetPath,
      params,
    );
    const byOrigin: Record<string, number> = {};
    for (const row of await db.rows('SELECT origin, count(*) AS n FROM bilingual GROUP BY 1 ORDER BY 1')) {
      byOrigin[String(row.origin)] = Number(row.n);
    }
    const pairs = Object.values(byOrigin).reduce((a, b) => a + b, 0);
    const untranslated = await db.count(`SELECT id FROM translated WHERE ${blankSql('translation')}`);
    return { datasetPath, pairs, examples, byOrigin, untranslated, decontaminated, decontaminatedPath, wrongLanguage, ...(wrongLanguagePath ? { wrongLanguagePath } : {}) };
  }));
}
