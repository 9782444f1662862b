// Language identification inside a corpus job: DuckDB selects the texts, JavaScript judges them as
// they stream out in chunks, and only the verdicts against a text go back into DuckDB. The texts
// themselves never sit in JS memory beyond one chunk, so a million pairs cost what the model costs.
import type { OutputLanguageCheck, PairLanguageCheck } from '../../contracts/cpu-activities';
import type { CorpusDb } from './corpus-db';
import { type LanguageIdentifier, type LanguageThresholds, acceptedLabels, loadLanguageIdentifier, wrongLanguage } from './language-identifier';

/** A check as the corpus functions take it: the knobs, the local path of a fastText model file, and the labels per side. */
export interface LanguageCheckArgs {
  check: PairLanguageCheck | OutputLanguageCheck;
  /** The model file when check.model names one, resolved to a local path by the activity. */
  modelPath?: string;
}

/** One text column of the selection and the labels its text must get; `side` is what the verdict calls it. */
export interface JudgedSide {
  column: string;
  side: string;
  accept: ReadonlySet<string>;
}

/** A check ready to run: its identifier loaded, the accepted labels of its sides validated against what the model knows. */
export interface PreparedLanguageCheck {
  identifier: LanguageIdentifier;
  accept: Record<string, ReadonlySet<string>>;
  thresholds: LanguageThresholds;
}

export async function prepareLanguageCheck(args: LanguageCheckArgs): Promise<PreparedLanguageCheck> {
  const identifier = await loadLanguageIdentifier(args.check.model, args.modelPath);
  const accept: Record<string, ReadonlySet<string>> = {};
  for (const side of ['source', 'target'] as const) {
    const labels = (args.check as Partial<PairLanguageCheck>)[side];
    if (labels) accept[side] = acceptedLabels(identifier, labels, `language_id (${side} language ${labels.join(' / ')})`);
  }
  return { identifier, accept, thresholds: args.check };
}

/**
 * Judges every row of `select` (a `key` column and the sides' text columns) and leaves temp table
 * `wrong_language(key, side, label, confidence)`: one row per key with a side in another language
 * (the first such side, in the order given). Returns how many keys each side put there.
 */
export async function findWrongLanguage(
  db: CorpusDb,
  select: string,
  sides: readonly JudgedSide[],
  identifier: LanguageIdentifier,
  check: LanguageThresholds,
): Promise<Record<string, number>> {
  await db.run('CREATE OR REPLACE TEMP TABLE wrong_language (key VARCHAR, side VARCHAR, label VARCHAR, confidence DOUBLE)');
  const columns = sides.map((s) => s.column);
  const found: [string, string, string, number][] = [];
  const counts: Record<string, number> = Object.fromEntries(sides.map((s) => [s.side, 0]));
  for await (const rows of db.chunks(`SELECT CAST(key AS VARCHAR) AS key, ${columns.join(', ')} FROM (${select})`)) {
    for (const row of rows) {
      for (const [i, side] of sides.entries()) {
        const text = row[i + 1];
        if (typeof text !== 'string') continue; // a blank side is another filter's business
        const guess = wrongLanguage(identifier, text, side.accept, check);
        if (!guess) continue;
        found.push([String(row[0]), side.side, guess.label, guess.confidence]);
        counts[side.side] = (counts[side.side] ?? 0) + 1;
        break;
      }
    }
  }
  await db.append('wrong_language', found);
  return counts;
}

/**
 * Judges the translations of temp table `translated(id, text, translation)` against the target
 * language and leaves `wrong_language` keyed by segment id (empty without a check). Returns how many.
 */
export async function judgeTranslations(db: CorpusDb, prepared: PreparedLanguageCheck | undefined): Promise<number> {
  if (!prepared) {
    await db.run('CREATE OR REPLACE TEMP TABLE wrong_language (key VARCHAR, side VARCHAR, label VARCHAR, confidence DOUBLE)');
    return 0;
  }
  const sides = [{ column: 'translation', side: 'target', accept: prepared.accept.target! }];
  const found = await findWrongLanguage(db, 'SELECT id AS key, translation FROM translated', sides, prepared.identifier, prepared.thresholds);
  return found.target ?? 0;
}
