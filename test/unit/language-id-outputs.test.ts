// Translated outputs in the wrong language, through the real CPU activities: an instruction set
// whose translator answered some segments in French, Persian or by echoing the English, and a
// teacher doing the same to Open-Orca segments. Those rows leave the corpus into
// wrong_language.parquet with a count; with the check off they stay. And filter-opus reading a
// fastText model file from the store, which an hf:// model without a hub mirror may not be.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCpuActivities } from '../../activities/cpu';
import { loadRefList, saveRefList } from '../../activities/ref-lists';
import { type ArtifactRef } from '../../contracts/artifact';
import { FileStore, joinUri } from '../../activities/store';
import type { OutputLanguageCheck } from '../../contracts/cpu-activities';
import { Language, Recipe } from '../../contracts/recipe';
import { sql } from '../support/duckdb-sql';
import { writeOpusRows } from '../support/opus-parquet';
import { otherLanguages, pairs, arabicNames } from '../support/language-samples';

const STAGE_KEY = 'c'.repeat(64);
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const run = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity, input) as Promise<O>;
const knobs = Recipe.shape.language_id.parse({});
const outputCheck: OutputLanguageCheck = { model: 'builtin', min_confidence: knobs.min_confidence, min_letters: knobs.min_letters, target: ['ar'] };
const names = Language.pick({ source: true, target: true, source_name: true, target_name: true }).parse(arabicNames);
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
const french = otherLanguages.filter((o) => o.lang === 'fr').map((o) => o.text);
const persian = otherLanguages.filter((o) => o.lang === 'fa').map((o) => o.text);

/** Each English sample's Arabic translation; the planted failures by English text. */
function translator(failures: Map<string, string>): (english: string) => string {
  const arabic = new Map(pairs.map((p) => [p.en, p.ar]));
  return (english) => failures.get(english) ?? arabic.get(english) ?? `(no sample for ${english})`;
}

describe('translated outputs in another language', () => {
  let dir: string;
  let store: FileStore;
  let activities: ReturnType<typeof createCpuActivities>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'language-id-outputs-'));
    store = new FileStore(`file://${dir}/store`);
    activities = createCpuActivities({ store, hubMirror: '', workRoot: dir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Segments of an Open-Orca-layout set, "translated" by `translate` and saved as the fan-out saves its shards. */
  async function prepareAndTranslate(name: string, rows: { question: string; response: string }[], translate: (english: string) => string) {
    await mkdir(path.join(dir, name), { recursive: true });
    const values = rows.map((r, i) => `('${name}.${i}', '', ${lit(r.question)}, ${lit(r.response)})`).join(', ');
    await sql(`COPY (SELECT * FROM (VALUES ${values}) v(id, system_prompt, question, response)) TO '${dir}/${name}/train.parquet' (FORMAT parquet)`);
    const prefix = store.uri('translate-instructions', STAGE_KEY, name);
    const segments = await run(activities.prepareSegments, {
      stage_key: STAGE_KEY, output_prefix: `${prefix}/segments`, source: `file://${dir}/${name}/train.parquet`, format: 'open_orca',
      translate_responses: true, drop_code: false, max_segment_chars: 4000, shard_rows: 8,
    });
    const translations: ArtifactRef[] = [];
    for (const [k, shard] of (await loadRefList(store, segments.shard_list)).entries()) {
      const texts = await sql(`SELECT id, text FROM read_parquet('${await store.fetchToLocal(shard)}')`);
      const values = texts.map((t) => `(${lit(String(t.id))}, ${lit(String(t.text))}, ${lit(translate(String(t.text)))})`).join(', ');
      const out = path.join(dir, `${name}-translated-${k}.parquet`);
      await sql(`COPY (SELECT * FROM (VALUES ${values}) v(id, text, translation)) TO '${out}' (FORMAT parquet)`);
      translations.push(await store.putFile(out, joinUri(prefix, 'translations', path.basename(out)), 'dataset'));
    }
    return { prefix, segments, list: await saveRefList(store, joinUri(prefix, 'translations.json'), translations) };
  }

  // Twelve conversations: a question and its answer, both translated. Row 3's answer came back in
  // French, row 5's question in Persian (Arabic script: the script filter would pass it), row 8's
  // answer is the English echoed back; row 10 has both turns wrong (one conversation, counted once).
  const rows = Array.from({ length: 12 }, (_, i) => ({ question: pairs[i]!.en, response: pairs[i + 12]!.en }));
  const failures = new Map([
    [rows[3]!.response, french[0]!],
    [rows[5]!.question, persian[0]!],
    [rows[8]!.response, rows[8]!.response],
    [rows[10]!.question, french[1]!],
    [rows[10]!.response, persian[1]!],
  ]);

  it('takes a conversation with any turn in another language out of the SFT corpus, with a count and a quarantine', async () => {
    const { prefix, segments, list } = await prepareAndTranslate('mixed', rows, translator(failures));
    const out = await run(activities.assembleConversations, {
      stage_key: STAGE_KEY, output_prefix: `${prefix}/conversations`, rows: segments.rows, translation_lists: [list], language_id: outputCheck,
    });
    expect(out).toMatchObject({ conversations: 8, missing_translations: 0, wrong_language: 4 });
    const kept = await sql(`SELECT id FROM read_parquet('${await store.fetchToLocal(out.dataset)}')`);
    expect(kept.map((r) => r.id)).toEqual(['mixed.0', 'mixed.1', 'mixed.2', 'mixed.4', 'mixed.6', 'mixed.7', 'mixed.9', 'mixed.11']);
    const quarantine = await sql(`SELECT id, detected FROM read_parquet('${await store.fetchToLocal(joinUri(prefix, 'conversations', 'wrong_language.parquet'))}')`);
    // One row per wrong turn, in turn order, with what the identifier took it for.
    expect(quarantine.map((q) => [q.id, q.detected])).toEqual([['mixed.3', 'fr'], ['mixed.5', 'fa'], ['mixed.8', 'en'], ['mixed.10', 'fr'], ['mixed.10', 'fa']]);
  });

  it('keeps every conversation when the recipe turns the check off', async () => {
    const { prefix, segments, list } = await prepareAndTranslate('unchecked', rows, translator(failures));
    const out = await run(activities.assembleConversations, {
      stage_key: STAGE_KEY, output_prefix: `${prefix}/conversations`, rows: segments.rows, translation_lists: [list],
    });
    expect(out).toMatchObject({ conversations: 12, wrong_language: 0 });
  });

  it("leaves the teacher's wrong-language translations out of the bilingual corpus, keeping the OPUS pairs", async () => {
    const teacherRows = rows.slice(0, 6);
    const { list } = await prepareAndTranslate('teacher', teacherRows, translator(new Map([[rows[3]!.response, french[0]!], [rows[5]!.question, persian[0]!]])));
    await writeOpusRows(path.join(dir, 'opus-raw.parquet'), pairs.slice(20, 24).map((p) => [p.en, p.ar] as const));
    await sql(`COPY (SELECT CAST(row_number() OVER () - 1 AS VARCHAR) AS id, translation.en AS source, translation.ar AS target FROM '${dir}/opus-raw.parquet') TO '${dir}/opus-pairs.parquet' (FORMAT parquet)`);
    const opusPairs = await store.putFile(`${dir}/opus-pairs.parquet`, store.uri('filter-opus', STAGE_KEY, 'pairs.parquet'), 'dataset', 4);
    const prefix = store.uri('build-bilingual-corpus', STAGE_KEY, 'corpus');
    const out = await run(activities.assembleBilingual, {
      stage_key: STAGE_KEY, output_prefix: prefix, opus_pairs: opusPairs, teacher_translation_lists: [list], language: names,
      both_directions: false, prompt_template: '{text}', seed: 0, language_id: outputCheck,
    });
    // 12 teacher segments (6 questions, 6 answers), 2 in another language; 4 OPUS pairs, all Arabic.
    expect(out).toMatchObject({ wrong_language: 2, untranslated: 0, pairs: 14, by_origin: { opus: 4, open_orca: 10 } });
    const quarantine = await sql(`SELECT id, detected FROM read_parquet('${await store.fetchToLocal(joinUri(prefix, 'wrong_language.parquet'))}') ORDER BY id`);
    expect(quarantine.map((q) => q.detected).sort()).toEqual(['fa', 'fr']);
    expect(quarantine.every((q) => String(q.id).startsWith('open_orca:'))).toBe(true);
  });
});

describe('filterOpus with a fastText model file', () => {
  let dir: string;
  let store: FileStore;
  const lid176 = require.resolve('fasttext.wasm.js/dist/fastText/models/lid.176.ftz');
  const language = { source: 'en', target: 'ar', source_script: 'latin' as const, target_script: 'arabic' as const };
  const filters = Recipe.shape.stages.shape.filter_opus.parse({});

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'language-id-fasttext-'));
    store = new FileStore(`file://${dir}/store`);
    await writeOpusRows(path.join(dir, 'opus.parquet'), [
      ...pairs.slice(0, 8).map((p) => [p.en, p.ar] as const),
      [pairs[8]!.en, persian[0]!],
      [french[1]!, pairs[9]!.ar],
    ]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const input = (model: string) => ({
    stage_key: STAGE_KEY, output_prefix: store.uri('filter-opus', STAGE_KEY), opus: `file://${dir}/opus.parquet`, language, filters,
    language_id: { model: { fasttext: model, source_labels: ['en'], target_labels: ['ar'] }, min_confidence: 0.5, min_letters: 12, source: ['en'], target: ['ar'] },
  });

  it('reads the model from the store and quarantines what it places elsewhere', async () => {
    const model = await store.putFile(lid176, store.uri('models', 'lid.176.ftz'), 'model');
    const out = await run(createCpuActivities({ store, hubMirror: '', workRoot: dir }).filterOpus, input(model.uri));
    expect(out.counts).toMatchObject({ read: 10, kept: 8, source_language: 1, target_language: 1 });
    const quarantine = await sql(`SELECT id, side, detected FROM read_parquet('${await store.fetchToLocal(joinUri(store.uri('filter-opus', STAGE_KEY), 'wrong_language.parquet'))}')`);
    expect(quarantine).toEqual([{ id: '8', side: 'target', detected: 'fa' }, { id: '9', side: 'source', detected: 'fr' }]);
  });

  it('refuses a model on the hub when no mirror is set: nothing is downloaded at run time', async () => {
    vi.stubEnv('HALA_HUB_MIRROR', ''); // npm test sets the tiny world's mirror for everything else
    try {
      await expect(run(createCpuActivities({ store, hubMirror: '', workRoot: dir }).filterOpus, input('hf://cis-lmu/glotlid/model.bin')))
        .rejects.toThrow(/language_id.model.fasttext hf:\/\/cis-lmu\/glotlid\/model.bin would be downloaded from the hub.*stage the model file in the store/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
