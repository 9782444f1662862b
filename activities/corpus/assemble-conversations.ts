import path from 'node:path';
import { type ParquetSource, loadParquet, withCorpusDb } from './corpus-db';
import { type DecontaminationArgs, decontaminate } from './decontaminate';
import { type LanguageCheckArgs, judgeTranslations, withLanguageCheck } from './language-check';
import { blankSql } from './text-sql';
import { loadTranslatedSegments } from './translated-segments';

export interface AssembleConversationsResult {
  /** parquet: id, messages list<struct<role, content>>, in the order of the rows file */
  datasetPath: string;
  conversations: number;
  /** conversations dropped because a segment had no (or a blank) translation */
  missingTranslations: number;
  /** conversations taken out because they repeat an evaluation text, by the evaluation set matched */
  decontaminated: Record<string, number>;
  /** parquet: id, eval_set, eval_sets, gram (the shared n-gram); only when something was taken out */
  decontaminatedPath?: string;
  /** conversations taken out because a translated turn is in another language (none without a check) */
  wrongLanguage: number;
  /** parquet: id, segment_id, detected, confidence, translation; only when something was taken out */
  wrongLanguagePath?: string;
}

/**
 * Puts translated segments back into their conversations: each turn with a segment_id takes its
 * translation, the others (system prompts, untranslated answers) keep their content. A conversation
 * with any segment untranslated is dropped whole and counted, never patched with the source text;
 * so is one with a translation in another language than the target (`languageId`), into quarantine.
 */
export async function assembleTranslatedConversations(args: {
  rows: ParquetSource;
  translations: ParquetSource[];
  /** Checks the source turns and their translations against the evaluation sets. */
  decontamination?: DecontaminationArgs;
  /** Checks every translation for the target language; absent: no check. */
  languageId?: LanguageCheckArgs;
  workDir: string;
}): Promise<AssembleConversationsResult> {
  // A model that cannot be loaded or lacks the target language fails before any work.
  return withLanguageCheck(args.languageId, (languageCheck) => withCorpusDb(args.workDir, async (db) => {
    await loadParquet(db, [args.rows], 'turns', [
      { name: 'row_id', expected: 'conversation id' },
      { name: 'turn', expected: 'turn number' },
      { name: 'role', expected: 'system / user / assistant' },
      { name: 'content', expected: 'the source text' },
      { name: 'segment_id', expected: 'segment id or null' },
    ]);
    await loadTranslatedSegments(db, args.translations);
    await judgeTranslations(db, languageCheck);
    await db.run(
      `CREATE TEMP TABLE assembled AS
       SELECT t.row_id, min(t.ord) AS first_ord,
              bool_or(t.segment_id IS NOT NULL AND ${blankSql('s.translation')}) AS missing,
              bool_or(t.segment_id IN (SELECT key FROM wrong_language)) AS wrong_language,
              list(struct_pack(role := t.role, content := CASE WHEN t.segment_id IS NULL THEN t.content ELSE s.translation END)
                   ORDER BY t.turn) AS messages
       FROM turns t LEFT JOIN translated s ON s.id = t.segment_id
       GROUP BY t.row_id`,
    );
    // Both languages: the source text of every turn and the translation that replaced it.
    const { decontaminated, decontaminatedPath } = await decontaminate(
      db,
      args.decontamination,
      `SELECT t.row_id AS row_key, t.content AS text FROM turns t
       UNION ALL SELECT t.row_id, s.translation FROM turns t JOIN translated s ON s.id = t.segment_id`,
      args.workDir,
    );
    const datasetPath = path.join(args.workDir, 'conversations.parquet');
    const conversations = await db.writeParquet(
      'SELECT row_id AS id, messages FROM assembled WHERE NOT missing AND NOT wrong_language AND row_id NOT IN (SELECT row_key FROM contaminated) ORDER BY first_ord',
      datasetPath,
    );
    const missingTranslations = await db.count('SELECT row_id FROM assembled WHERE missing');
    // A conversation missing a translation is counted there; the rest with a wrong-language turn here.
    const wrongLanguage = await db.count('SELECT row_id FROM assembled WHERE wrong_language AND NOT missing');
    let wrongLanguagePath: string | undefined;
    if (wrongLanguage > 0) {
      wrongLanguagePath = path.join(args.workDir, 'wrong_language.parquet');
      await db.writeParquet(
        `SELECT t.row_id AS id, t.segment_id, w.label AS detected, w.confidence, s.translation
         FROM turns t JOIN wrong_language w ON w.key = t.segment_id JOIN translated s ON s.id = t.segment_id
         JOIN assembled a ON a.row_id = t.row_id WHERE NOT a.missing ORDER BY t.ord`,
        wrongLanguagePath,
      );
    }
    return { datasetPath, conversations, missingTranslations, decontaminated, decontaminatedPath, wrongLanguage, ...(wrongLanguagePath ? { wrongLanguagePath } : {}) };
  }));
}
