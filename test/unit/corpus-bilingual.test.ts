import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Recipe } from '../../contracts/recipe';
import { BadCorpusInput, assembleBilingualCorpus, prepareTranslationDevSet } from '../../activities/corpus';
import { sql } from '../support/duckdb-sql';
import { arabicLanguage } from '../support/language-samples';

const language = Recipe.shape.language.parse(arabicLanguage); // en → ar, English / Arabic
const template = 'Translate everything that follows into {target_name}:\n\n{text}';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bilingual-test-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));


async function writeInputs(): Promise<{ opus: string; teacher: string }> {
  const opus = path.join(dir, 'pairs.parquet');
  const teacher = path.join(dir, 'teacher-0.parquet');
  await sql(`COPY (SELECT * FROM (VALUES ('0', 'Good morning.', 'صباح الخير.'), ('7', 'Thank you.', 'شكرا لك.')) v(id, source, target))
             TO '${opus}' (FORMAT parquet)`);
  await sql(`COPY (SELECT * FROM (VALUES
               ('niv.1#1', 'What is the capital of France? {text}', 'ما هي عاصمة فرنسا؟ {text}'),
               ('niv.1#2', 'Paris.', NULL)) v(id, text, translation))
             TO '${teacher}' (FORMAT parquet)`);
  return { opus, teacher };
}

describe('assembleBilingualCorpus', () => {
  it('emits both directions with the prompt template, counted by origin', async () => {
    const { opus, teacher } = await writeInputs();
    const result = await assembleBilingualCorpus({
      opusPairs: { path: opus, label: 'pairs' }, teacherTranslations: [{ path: teacher, label: 'teacher-0' }],
      language, bothDirections: true, promptTemplate: template, seed: 7, workDir: dir,
    });
    expect(result).toMatchObject({ pairs: 3, examples: 6, byOrigin: { opus: 2, open_orca: 1 }, untranslated: 1 });

    const rows = await sql(`SELECT id, messages FROM read_parquet('${result.datasetPath}')`);
    const byId = new Map(rows.map((r) => [r.id, r.messages]));
    expect([...byId.keys()].sort()).toEqual([
      'open_orca:niv.1#1:ar-en', 'open_orca:niv.1#1:en-ar', 'opus:0:ar-en', 'opus:0:en-ar', 'opus:7:ar-en', 'opus:7:en-ar',
    ]);
    expect(byId.get('opus:0:en-ar')).toEqual([
      { role: 'user', content: 'Translate everything that follows into Arabic:\n\nGood morning.' },
      { role: 'assistant', content: 'صباح الخير.' },
    ]);
    expect(byId.get('opus:0:ar-en')).toEqual([
      { role: 'user', content: 'Translate everything that follows into English:\n\nصباح الخير.' },
      { role: 'assistant', content: 'Good morning.' },
    ]);
    // A `{text}` inside the data is data, not a placeholder.
    expect(byId.get('open_orca:niv.1#1:en-ar')).toEqual([
      { role: 'user', content: 'Translate everything that follows into Arabic:\n\nWhat is the capital of France? {text}' },
      { role: 'assistant', content: 'ما هي عاصمة فرنسا؟ {text}' },
    ]);
  });

  it('shuffles deterministically: same seed same order, another seed another order', async () => {
    const { opus, teacher } = await writeInputs();
    const order = async (seed: number, sub: string) => {
      const workDir = path.join(dir, sub);
      await mkdir(workDir);
      const result = await assembleBilingualCorpus({
        opusPairs: { path: opus, label: 'pairs' }, teacherTranslations: [{ path: teacher, label: 't' }],
        language, bothDirections: true, promptTemplate: template, seed, workDir,
      });
      return (await sql(`SELECT id FROM read_parquet('${result.datasetPath}')`)).map((r) => r.id);
    };
    const first = await order(1, 'a');
    expect(await order(1, 'b')).toEqual(first);
    const others = await Promise.all([2, 3, 4].map((seed) => order(seed, `s${seed}`)));
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(first))).toBe(true);
  });

  it('emits one direction only when asked, and refuses a template without {text}', async () => {
    const { opus } = await writeInputs();
    const result = await assembleBilingualCorpus({
      opusPairs: { path: opus, label: 'pairs' }, teacherTranslations: [], language, bothDirections: false,
      promptTemplate: template, seed: 0, workDir: dir,
    });
    expect(result).toMatchObject({ pairs: 2, examples: 2, byOrigin: { opus: 2 } });
    await expect(assembleBilingualCorpus({
      opusPairs: { path: opus, label: 'pairs' }, teacherTranslations: [], language, bothDirections: false,
      promptTemplate: 'Translate into {target_name}', seed: 0, workDir: dir,
    })).rejects.toThrow(BadCorpusInput);
  });
});

describe('prepareTranslationDevSet', () => {
  it('takes the first N non-blank pairs as segments and references with shared ids', async () => {
    const dev = path.join(dir, 'dev.parquet');
    await sql(`COPY (SELECT translation FROM (VALUES
      (0, {'en': 'How are you?', 'ar': 'كيف حالك؟'}),
      (1, {'en': '', 'ar': 'فارغ'}),
      (2, {'en': 'See you tomorrow.', 'ar': 'أراك غدا.'}),
      (3, {'en': 'Good night.', 'ar': 'تصبح على خير.'})
    ) v(i, translation) ORDER BY i) TO '${dev}' (FORMAT parquet)`);
    const result = await prepareTranslationDevSet({ dev: { path: dev, label: 'dev' }, language, rows: 2, workDir: dir });
    expect(result.rows).toBe(2);
    expect(await sql(`SELECT * FROM read_parquet('${result.segmentsPath}')`)).toEqual([
      { id: '0', text: 'How are you?' },
      { id: '2', text: 'See you tomorrow.' },
    ]);
    expect(await sql(`SELECT * FROM read_parquet('${result.referencesPath}')`)).toEqual([
      { id: '0', reference: 'كيف حالك؟' },
      { id: '2', reference: 'أراك غدا.' },
    ]);
  });
});
