// Language identification on every core (activities/corpus/language-pool.ts): the verdicts do not
// depend on how many threads judge, no thread outlives the job that started it (done or failed),
// and a worker's error reaches the caller with its type.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadCorpusInput, filterOpusPairs } from '../../activities/corpus';
import { prepareLanguageCheck } from '../../activities/corpus/language-check';
import { poolSize, runningLanguageThreads } from '../../activities/corpus/language-pool';
import type { PairLanguageCheck } from '../../contracts/cpu-activities';
import { Recipe } from '../../contracts/recipe';
import { sql } from '../support/duckdb-sql';
import { writeOpusRows } from '../support/opus-parquet';
import { otherLanguages, pairs, arabicLanguage } from '../support/language-samples';

const knobs = Recipe.shape.language_id.parse({});
const check: PairLanguageCheck = { model: 'builtin', min_confidence: knobs.min_confidence, min_letters: knobs.min_letters, source: ['en'], target: ['ar'] };
const language = Recipe.shape.language.parse(arabicLanguage);
// No dedup: the rows repeat the samples, and every one of them must reach identification.
const filters = { ...Recipe.shape.stages.shape.filter_opus.parse({}), dedup: 'none' as const };

/** Enough pairs for many DuckDB chunks (2048 rows each), every 7th with a side in another language, at varying places. */
const ROWS = 9000;
const rows: [string, string][] = Array.from({ length: ROWS }, (_, i) => {
  const p = pairs[i % pairs.length]!;
  if (i % 7 !== 3) return [p.en, p.ar];
  const other = otherLanguages[i % otherLanguages.length]!;
  const arabicScript = other.lang === 'fa' || other.lang === 'ur';
  return arabicScript ? [p.en, other.text] : [other.text, p.ar];
});

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'language-pool-test-'));
  file = path.join(dir, 'opus.parquet');
  await writeOpusRows(file, rows);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function quarantined(threads: number) {
  const workDir = await mkdtemp(path.join(dir, `threads-${threads}-`));
  const result = await filterOpusPairs({ opus: { path: file, label: 'opus' }, language, filters, languageId: { check, threads }, workDir });
  const wrong = await sql(`SELECT id, side, detected, confidence FROM read_parquet('${result.wrongLanguagePath!}')`);
  return { counts: result.counts, wrong };
}

describe('the language-identification pool', () => {
  it('quarantines the same pairs, with the same guesses, with 1 thread and with 3', async () => {
    const one = await quarantined(1);
    expect(runningLanguageThreads()).toBe(0);
    const three = await quarantined(3);
    expect(runningLanguageThreads()).toBe(0);
    // Only rows the generator gave a side in another language are taken (the others the script and length filters take first).
    expect(one.wrong.every((w) => Number(w.id) % 7 === 3)).toBe(true);
    expect(one.counts.source_language + one.counts.target_language).toBe(one.wrong.length);
    expect(three.counts).toEqual(one.counts);
    expect(three.wrong).toEqual(one.wrong);
    expect(one.wrong.length).toBeGreaterThan(1000);
  });

  it('surfaces a worker\'s load error with its type, and leaves no thread behind', async () => {
    const bogus = path.join(dir, 'model.bin');
    await writeFile(bogus, 'not a model at all');
    const fasttext = { ...check, model: { fasttext: 'file://bogus/model.bin', source_labels: ['en'], target_labels: ['ar'] } };
    const failed = prepareLanguageCheck({ check: fasttext, modelPath: bogus, threads: 2 });
    await expect(failed).rejects.toBeInstanceOf(BadCorpusInput);
    await expect(failed).rejects.toThrow(/language_id.model.fasttext file:\/\/bogus\/model.bin is not a fastText model file/);
    expect(runningLanguageThreads()).toBe(0);
  });

  it('ends its threads when the job fails after they started', async () => {
    const workDir = await mkdtemp(path.join(dir, 'failing-'));
    const missing = { path: path.join(dir, 'absent.parquet'), label: 'opus' };
    await expect(filterOpusPairs({ opus: missing, language, filters, languageId: { check, threads: 2 }, workDir })).rejects.toThrow();
    expect(runningLanguageThreads()).toBe(0);
  });

  it('runs a thread per core, but no more copies of a model than a quarter of the memory holds', () => {
    const GiB = 2 ** 30;
    expect(poolSize(1_000_000, 16, 64 * GiB)).toBe(16); // lid.176.ftz: one per core
    expect(poolSize(1.6 * GiB, 16, 64 * GiB)).toBe(10); // GlotLID's model.bin
    expect(poolSize(1.6 * GiB, 16, 4 * GiB)).toBe(1); // never none
  });

  it('fails a chunk sent to a closed pool instead of waiting for ever', async () => {
    const prepared = await prepareLanguageCheck({ check, threads: 2 });
    expect(runningLanguageThreads()).toBe(2);
    await prepared.pool.close();
    expect(runningLanguageThreads()).toBe(0);
    await expect(prepared.pool.judge(['some English text to judge here'], 1)).rejects.toThrow(/closed/);
  });
});
