import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Recipe } from '../../contracts/recipe';
import { BadCorpusInput, filterOpusPairs } from '../../activities/corpus';
import { arabicLanguage } from '../support/language-samples';

// The recipe's defaults: en → ar, latin / arabic scripts, near dedup.
const language = Recipe.shape.language.parse(arabicLanguage);
const filters = Recipe.shape.stages.shape.filter_opus.parse({});

/** Writes OPUS-layout rows (`translation` {en, ar}) to a parquet file with DuckDB. */
async function writeOpus(file: string, pairs: Array<[string | null, string | null]>): Promise<void> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const values = pairs.map(([en, ar], i) => `(${i}, {'en': ${lit(en)}, 'ar': ${lit(ar)}})`).join(', ');
  await db.run(`COPY (SELECT translation FROM (VALUES ${values}) v(i, translation) ORDER BY i) TO '${file}' (FORMAT parquet)`);
  db.closeSync();
}
const lit = (s: string | null) => (s === null ? 'NULL' : `'${s.replaceAll("'", "''")}'`);

async function readRows(file: string): Promise<Record<string, unknown>[]> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await db.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
  db.closeSync();
  return rows;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'opus-test-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('filterOpusPairs', () => {
  const pairs: Array<[string | null, string | null]> = [
    ['Good morning, my friend.', 'صباح الخير يا صديقي.'], // kept (0)
    ['', 'مرحبا'], // empty
    ['Where is the library?', null], // empty
    ['OK', 'ok'], // identical (case differs only)
    ['Hi', 'مرحبا بك في بيتنا الجديد يا صديقي العزيز'], // length_ratio
    ['x'.repeat(1200), 'س'.repeat(1200)], // too_long
    ['The weather is nice today.', 'The weather is nice today!'], // target_script (latin on the Arabic side)
    ['مرحبا بكم جميعا', 'مرحبا بكم جميعا في البيت'], // source_script
    ['Good morning, my friend.', 'صباح الخير يا صديقي.'], // exact_duplicate of 0
    ['good morning my friend 2', 'صباح الخير، يا صديقي!'], // near_duplicate of 0
    ['Thank you very much.', 'شكرا جزيلا لك.'], // kept (10)
  ];

  it('counts every pair in exactly one bucket and keeps the first of duplicates', async () => {
    const file = path.join(dir, 'opus.parquet');
    await writeOpus(file, pairs);
    const result = await filterOpusPairs({ opus: { path: file, label: 'hf://datasets/Helsinki-NLP/opus-100/en-ar.parquet' }, language, filters, workDir: dir });
    expect(result.counts).toEqual({
      read: 11, kept: 2, empty: 2, identical: 1, too_short: 0, too_long: 1, length_ratio: 1,
      source_script: 1, target_script: 1, exact_duplicate: 1, near_duplicate: 1, source_language: 0, target_language: 0,
    });
    const { read, ...buckets } = result.counts;
    expect(Object.values(buckets).reduce((a, b) => a + b, 0)).toBe(read);
    expect(await readRows(result.pairsPath)).toEqual([
      { id: '0', source: 'Good morning, my friend.', target: 'صباح الخير يا صديقي.' },
      { id: '10', source: 'Thank you very much.', target: 'شكرا جزيلا لك.' },
    ]);
  });

  it('applies min_chars, max_rows and dedup=none', async () => {
    const file = path.join(dir, 'opus.parquet');
    await writeOpus(file, pairs);
    const result = await filterOpusPairs({
      opus: { path: file, label: 'opus' },
      language,
      filters: { ...filters, min_chars: 16, dedup: 'none', max_rows: 9 },
      workDir: dir,
    });
    expect(result.counts.read).toBe(9);
    expect(result.counts.too_short).toBe(2); // 'Hi' and the 15-letter 'مرحبا بكم جميعا'; 'OK' is caught earlier as identical
    expect(result.counts.exact_duplicate).toBe(0);
    expect(result.counts.kept).toBe(2); // the pair and its exact copy both survive without dedup
  });

  it('skips script checks for `any` and honours the language codes', async () => {
    const file = path.join(dir, 'opus.parquet');
    await writeOpus(file, [['The weather is nice today.', 'The weather is nice today!']]);
    const result = await filterOpusPairs({
      opus: { path: file, label: 'opus' },
      language: { ...language, target_script: 'any' },
      filters,
      workDir: dir,
    });
    expect(result.counts.kept).toBe(1);
  });

  it('names the file, the column and the fix when the layout is wrong', async () => {
    const file = path.join(dir, 'opus.parquet');
    await writeOpus(file, [['Hello there', 'أهلا بك']]);
    const wrongCode = filterOpusPairs({ opus: { path: file, label: 's3://b/opus.parquet' }, language: { ...language, target: 'fr' }, filters, workDir: dir });
    await expect(wrongCode).rejects.toThrow(BadCorpusInput);
    await expect(wrongCode).rejects.toThrow(/s3:\/\/b\/opus\.parquet.*translation.*fr.*language\.source/);

    const notParquet = path.join(dir, 'notes.parquet');
    await writeFile(notParquet, 'not a parquet file');
    await expect(filterOpusPairs({ opus: { path: notParquet, label: 'file:///x/notes.parquet' }, language, filters, workDir: dir }))
      .rejects.toThrow(/file:\/\/\/x\/notes\.parquet is not a readable parquet file/);
    await expect(filterOpusPairs({ opus: { path: path.join(dir, 'nope.parquet'), label: 'file:///nope.parquet' }, language, filters, workDir: dir }))
      .rejects.toThrow(/file:\/\/\/nope\.parquet: no file/);
  });
});
