// Language identification inside a corpus job: DuckDB selects the texts, and they stream out in
// chunks to a pool of threads (language-pool.ts, one per core) that judge them; only the verdicts
// against a text go back into DuckDB. The texts never sit in JS memory beyond the chunks in flight,
// so a million pairs cost what the model costs, divided by the cores.
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { OutputLanguageCheck, PairLanguageCheck } from '../../contracts/cpu-activities';
import type { CorpusDb } from './corpus-db';
import { type LanguageThresholds, acceptedLabels } from './language-identifier';
import { CHUNKS_PER_THREAD, type LanguagePool, openLanguagePool } from './language-pool';
import type { Verdict } from './language-worker';

/** A check as the corpus functions take it: the knobs, the local path of a fastText model file, and the labels per side. */
export interface LanguageCheckArgs {
  check: PairLanguageCheck | OutputLanguageCheck;
  /** The model file when check.model names one, resolved to a local path by the activity. */
  modelPath?: string;
  /** Threads judging; default one per core (tests pin it to compare verdicts across counts). */
  threads?: number;
}

/** One text column of the selection and the labels its text must get; `side` is what the verdict calls it. */
export interface JudgedSide {
  column: string;
  side: string;
  accept: ReadonlySet<string>;
}

/** A check ready to run: its threads started with the model loaded, the accepted labels of its sides validated against what the model knows. */
export interface PreparedLanguageCheck {
  pool: LanguagePool;
  accept: Record<string, ReadonlySet<string>>;
  thresholds: LanguageThresholds;
}

/** Starts the check's threads; the caller closes `pool` when its job ends (withLanguageCheck does). */
export async function prepareLanguageCheck(args: LanguageCheckArgs): Promise<PreparedLanguageCheck> {
  const pool = await openLanguagePool(args.check.model, args.modelPath, args.threads);
  try {
    const identifier = { name: pool.name, labels: pool.labels };
    const accept: Record<string, ReadonlySet<string>> = {};
    for (const side of ['source', 'target'] as const) {
      const labels = (args.check as Partial<PairLanguageCheck>)[side];
      if (labels) accept[side] = acceptedLabels(identifier, labels, `language_id (${side} language ${labels.join(' / ')})`);
    }
    return { pool, accept, thresholds: { min_confidence: args.check.min_confidence, min_letters: args.check.min_letters } };
  } catch (error) {
    await pool.close();
    throw error;
  }
}

/** Runs `job` with the check prepared (or without, when `args` is absent) and ends its threads however the job ends. */
export async function withLanguageCheck<T>(args: LanguageCheckArgs | undefined, job: (prepared: PreparedLanguageCheck | undefined) => Promise<T>): Promise<T> {
  const prepared = args && (await prepareLanguageCheck(args));
  try {
    return await job(prepared);
  } finally {
    await prepared?.pool.close();
  }
}

/**
 * Judges every row of `select` (a `key` column and the sides' text columns) and leaves temp table
 * `wrong_language(key, side, label, confidence)`: one row per key with a side in another language
 * (the first such side, in the order given), in the order of `select`. Returns how many keys each side put there.
 */
export async function findWrongLanguage(db: CorpusDb, select: string, sides: readonly JudgedSide[], prepared: PreparedLanguageCheck): Promise<Record<string, number>> {
  await db.run('CREATE OR REPLACE TEMP TABLE wrong_language (key VARCHAR, side VARCHAR, label VARCHAR, confidence DOUBLE)');
  const { pool } = prepared;
  pool.configure(sides.map((s) => s.accept), prepared.thresholds);
  const found: [string, string, string, number][] = [];
  const counts: Record<string, number> = Object.fromEntries(sides.map((s) => [s.side, 0]));
  // Chunks in flight, oldest first: their verdicts are taken in the order sent, whichever thread finishes first.
  // A chunk's keys stay in DuckDB's chunk (held here) until a verdict names a row: most rows never need theirs.
  const inFlight: { chunk: DuckDBDataChunk; verdicts: Promise<Verdict[]> }[] = [];
  const takeOldest = async () => {
    const { chunk, verdicts } = inFlight.shift()!;
    const judged = await verdicts;
    const keys = judged.length > 0 ? chunk.getColumnVector(0) : undefined;
    for (const [row, side, label, confidence] of judged) {
      found.push([String(keys!.getItem(row)), sides[side]!.side, label, confidence]);
      counts[sides[side]!.side]! += 1;
    }
  };
  try {
    for await (const chunk of db.dataChunks(`SELECT CAST(key AS VARCHAR) AS key, ${sides.map((s) => s.column).join(', ')} FROM (${select})`)) {
      const columns = sides.map((_, i) => chunk.getColumnVector(i + 1));
      const width = columns.length;
      const texts: (string | null)[] = new Array(chunk.rowCount * width);
      for (let row = 0; row < chunk.rowCount; row++) {
        for (let side = 0; side < width; side++) {
          const text = columns[side]!.getItem(row);
          texts[row * width + side] = typeof text === 'string' ? text : null;
        }
      }
      inFlight.push({ chunk, verdicts: pool.judge(texts, width) });
      if (inFlight.length >= CHUNKS_PER_THREAD * pool.size) await takeOldest();
    }
    while (inFlight.length > 0) await takeOldest();
  } finally {
    // On a failure the chunks left in flight fail when the pool closes: nobody awaits them.
    for (const chunk of inFlight) chunk.verdicts.catch(() => undefined);
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
  const found = await findWrongLanguage(db, 'SELECT id AS key, translation FROM translated', sides, prepared);
  return found.target ?? 0;
}
