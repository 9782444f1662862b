// Decontamination: a training row that shares a run of n words with any evaluation text (a
// benchmark question, alone and with its choices; a side of a translation dev pair) is taken out of
// the corpus and kept in quarantine with the evaluation set it matched. An evaluation text shorter
// than n words counts whole (questions are often short); one under MIN_WORDS is not checked, since
// a two-word answer repeats everywhere. Texts are compared after the same normalisation (lower
// case, combining marks (diacritics) and tatweel removed, punctuation as spaces), in either language.
import type { z } from 'zod';
import type { BenchmarkFormat as BenchmarkFormatSchema } from '../../contracts/recipe';
import { BENCHMARK_TEXT_COLUMNS } from '../../contracts/format-tables';
import path from 'node:path';
import type { CorpusDb, ParquetSource } from './corpus-db';
import { loadParquet, sqlIdentifier } from './corpus-db';
import { loadOpusPairs, type LanguagePair } from './opus-pairs';

type BenchmarkFormat = z.infer<typeof BenchmarkFormatSchema>;

/** An evaluation set: a benchmark in its layout (OALL, MMLU), or the OPUS-layout translation dev set. */
export interface EvalSet {
  name: string;
  source: ParquetSource;
  format: BenchmarkFormat | 'opus_pairs';
}

export interface DecontaminationArgs {
  ngram: number;
  evalSets: EvalSet[];
  /** The OPUS column names of the dev set's two sides. */
  language: LanguagePair;
}

/** Shorter evaluation texts are not checked; their count is returned by loadEvalGrams. */
export const MIN_WORDS = 4;

const LAYOUT_TEXT = BENCHMARK_TEXT_COLUMNS;

/** Words of `column` after normalisation, as a DuckDB list. */
export function wordsSql(column: string): string {
  const folded = `regexp_replace(lower(${column}), '[\\p{M}\\x{0640}]', '', 'g')`;
  return `list_filter(string_split(regexp_replace(${folded}, '[^\\p{L}\\p{N}]+', ' ', 'g'), ' '), lambda w: w <> '')`;
}

/** The n-grams of a words list, each as its text. A list shorter than n has none. */
function gramsSql(words: string, n: number): string {
  return `list_transform(range(1, len(${words}) - ${n} + 2), lambda i: array_to_string(${words}[i:i + ${n} - 1], ' '))`;
}

/**
 * Builds temp table `eval_grams(gram_hash, gram, len, eval_set, eval_order)` from every evaluation
 * set: the n-grams of each text, or the whole text when it is shorter. Returns, per set, the texts
 * too short to check (under MIN_WORDS words).
 */
export async function loadEvalGrams(db: CorpusDb, args: DecontaminationArgs): Promise<Record<string, number>> {
  const n = Math.floor(args.ngram);
  await db.run('CREATE OR REPLACE TEMP TABLE eval_texts (eval_set VARCHAR, eval_order INTEGER, text VARCHAR)');
  for (const [order, set] of args.evalSets.entries()) {
    if (set.format === 'opus_pairs') {
      await loadOpusPairs(db, set.source, args.language);
      await db.run(`INSERT INTO eval_texts SELECT $set, $order, source FROM pairs UNION ALL SELECT $set, $order, target FROM pairs`, { set: set.name, order });
      continue;
    }
    const wanted = LAYOUT_TEXT[set.format];
    const question = wanted[0]!;
    const columns = await loadParquet(db, [set.source], 'eval_raw', [{ name: question, expected: 'the question' }]);
    const text = wanted
      .filter((c) => columns.has(c))
      .map((c) => (columns.get(c)!.endsWith('[]') ? `array_to_string(${sqlIdentifier(c)}, ' ')` : `CAST(${sqlIdentifier(c)} AS VARCHAR)`));
    // The question alone (leaked without its options) and the question with everything shown.
    await db.run(
      `INSERT INTO eval_texts SELECT $set, $order, CAST(${sqlIdentifier(question)} AS VARCHAR) FROM eval_raw
       UNION ALL SELECT $set, $order, concat_ws(' ', ${text.join(', ')}) FROM eval_raw`,
      { set: set.name, order },
    );
    await db.run('DROP TABLE eval_raw');
  }
  await db.run(`CREATE OR REPLACE TEMP TABLE eval_words AS SELECT eval_set, eval_order, ${wordsSql('text')} AS w FROM eval_texts`);
  await db.run(
    `CREATE OR REPLACE TEMP TABLE eval_grams AS
     SELECT DISTINCT hash(gram) AS gram_hash, gram, len, eval_set, eval_order FROM (
       SELECT eval_set, eval_order, unnest(${gramsSql('w', n)}) AS gram, ${n} AS len FROM eval_words WHERE len(w) >= ${n}
       UNION ALL
       SELECT eval_set, eval_order, array_to_string(w, ' '), len(w) FROM eval_words WHERE len(w) BETWEEN ${MIN_WORDS} AND ${n - 1})`,
  );
  const unchecked: Record<string, number> = {};
  for (const row of await db.rows(`SELECT eval_set, count(*) AS k FROM eval_words WHERE len(w) < ${MIN_WORDS} GROUP BY 1 ORDER BY 1`)) {
    unchecked[String(row.eval_set)] = Number(row.k);
  }
  return unchecked;
}

/**
 * Temp table `contaminated(row_key, eval_set, eval_sets, gram)` from `texts(row_key, text)`: each row
 * with a run of words of an evaluation text, named by the first evaluation set it matched (in the
 * order given), with all it matched and one shared run for the audit. `loadEvalGrams` must run first.
 */
export async function findContaminated(db: CorpusDb, texts: string): Promise<Record<string, number>> {
  await db.run(`CREATE OR REPLACE TEMP TABLE corpus_words AS SELECT row_key, ${wordsSql('text')} AS w FROM ${texts}`);
  // One pass per run length the evaluation texts need: n, and the lengths of the shorter texts.
  const lengths = (await db.rows('SELECT DISTINCT len FROM eval_grams ORDER BY len')).map((r) => Number(r.len));
  const grams = lengths.map((len) => `SELECT row_key, hash(unnest(${gramsSql('w', len)})) AS gram_hash, ${len} AS len FROM corpus_words`);
  if (grams.length === 0) grams.push('SELECT NULL::VARCHAR AS row_key, NULL::UBIGINT AS gram_hash, NULL::INTEGER AS len WHERE false');
  await db.run(
    `CREATE OR REPLACE TEMP TABLE contaminated AS
     SELECT row_key, first.s AS eval_set, eval_sets, first.g AS gram FROM (
       -- Structs compare field by field: the first set in recipe order, then its first run alphabetically (stable).
       SELECT g.row_key, min(struct_pack(o := e.eval_order, s := e.eval_set, g := e.gram)) AS first, list(DISTINCT e.eval_set ORDER BY e.eval_set) AS eval_sets
       FROM (${grams.join(' UNION ALL ')}) g
       JOIN eval_grams e ON e.gram_hash = g.gram_hash AND e.len = g.len
       GROUP BY g.row_key)`,
  );
  const removed: Record<string, number> = {};
  for (const row of await db.rows('SELECT eval_set, count(*) AS k FROM contaminated GROUP BY 1 ORDER BY 1')) removed[String(row.eval_set)] = Number(row.k);
  return removed;
}

export interface Decontaminated {
  /** Rows taken out, by the first evaluation set they matched. */
  decontaminated: Record<string, number>;
  /** parquet: id, eval_set, eval_sets, gram; only when something was taken out. */
  decontaminatedPath?: string;
}

/**
 * The whole check for an assembly step: `textsSql` selects (row_key, text), every text of every
 * row in whichever language. Leaves temp table `contaminated(row_key, ...)` (empty without `args`)
 * for the caller to leave out, and writes the quarantine to `workDir`.
 */
export async function decontaminate(db: CorpusDb, args: DecontaminationArgs | undefined, textsSql: string, workDir: string): Promise<Decontaminated> {
  if (!args) {
    await db.run('CREATE OR REPLACE TEMP TABLE contaminated (row_key VARCHAR)');
    return { decontaminated: {} };
  }
  await loadEvalGrams(db, args);
  await db.run(`CREATE OR REPLACE TEMP TABLE training_texts AS ${textsSql}`);
  const decontaminated = await findContaminated(db, 'training_texts');
  if (Object.keys(decontaminated).length === 0) return { decontaminated };
  const decontaminatedPath = path.join(workDir, 'decontaminated.parquet');
  await db.writeParquet('SELECT row_key AS id, eval_set, eval_sets, gram FROM contaminated ORDER BY row_key', decontaminatedPath);
  return { decontaminated, decontaminatedPath };
}
