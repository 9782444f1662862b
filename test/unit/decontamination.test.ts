// Decontamination through the real CPU activities: benchmark questions planted in an instruction
// set, and a dev-set sentence planted in the OPUS pairs, are taken out of the corpora and kept in
// quarantine with the evaluation set they repeat. The benchmarks are the tiny world's own files.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuActivities } from '../../activities/cpu';
import { FileStore, joinUri } from '../../activities/store';
import { loadRefList, saveRefList } from '../../activities/ref-lists';
import type { Decontamination } from '../../contracts/cpu-activities';
import { Language } from '../../contracts/recipe';
import { hubMirror } from '../../platform/python-env';
import { sql } from '../support/duckdb-sql';
import { arabicNames } from '../support/language-samples';

const STAGE_KEY = 'b'.repeat(64);
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const run = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity, input) as Promise<O>;
const names = Language.pick({ source: true, target: true, source_name: true, target_name: true }).parse(arabicNames);
const bench = (name: string) => `hf://datasets/hala-tiny/oall/${name}/test.parquet`;
const DEV_SENTENCE = 'the committee will publish its annual report on the state of the northern forests next spring';

describe('decontamination', () => {
  let dir: string;
  let store: FileStore;
  let activities: ReturnType<typeof createCpuActivities>;
  let decontamination: Decontamination;
  /** The first rows' question texts of a tiny benchmark, as a student would see them in a leaked set. */
  const questions = async (file: string, column: string, n: number) =>
    (await sql(`SELECT "${column}" AS q FROM read_parquet('${path.join(hubMirror(), file)}') LIMIT ${n}`)).map((r) => String(r.q));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'decontamination-test-'));
    store = new FileStore(`file://${dir}/store`);
    activities = createCpuActivities({ store, hubMirror: hubMirror(), workRoot: dir });
    // A dev set with one long sentence (the tiny world's dev pairs are mostly shorter than 8 words).
    await mkdir(path.join(dir, 'dev'));
    await sql(`COPY (SELECT {'en': '${DEV_SENTENCE}', 'ar': 'ستنشر اللجنة تقريرها السنوي'} AS translation) TO '${dir}/dev/test.parquet' (FORMAT parquet)`);
    decontamination = {
      ngram: 8,
      language: { source: 'en', target: 'ar' },
      eval_sets: [
        { name: 'AlGhafa', uri: bench('alghafa'), format: 'alghafa' },
        { name: 'ArabicMMLU', uri: bench('arabic_mmlu'), format: 'arabic_mmlu' },
        { name: 'ArbMMLU-HT', uri: bench('arbmmlu_ht'), format: 'arbmmlu_ht' },
        { name: 'translation_dev', uri: `file://${dir}/dev/test.parquet`, format: 'opus_pairs' },
      ],
    };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes benchmark questions planted in an instruction set out of the SFT corpus, naming the benchmark', async () => {
    const alghafa = await questions('datasets/hala-tiny/oall/alghafa/test.parquet', 'query', 2);
    const mmlu = await questions('datasets/hala-tiny/oall/arabic_mmlu/test.parquet', 'Question', 3);
    // 20 clean rows, then the planted ones: two AlGhafa queries asked as they are, three ArabicMMLU
    // questions inside a longer prompt, and one English row repeating the dev sentence.
    const planted = [...alghafa.map((q) => q), ...mmlu.map((q) => `Please answer this: ${q} Explain briefly.`), `Translate: ${DEV_SENTENCE}.`];
    const rows = [...Array.from({ length: 20 }, (_, i) => `Clean question number ${i} about gardening and the weather today?`), ...planted];
    const values = rows.map((q, i) => `('set.${i}', '', '${q.replaceAll("'", "''")}', 'An answer of row ${i}.')`).join(', ');
    await mkdir(path.join(dir, 'set'), { recursive: true });
    await sql(`COPY (SELECT * FROM (VALUES ${values}) v(id, system_prompt, question, response)) TO '${dir}/set/train.parquet' (FORMAT parquet)`);

    const prefix = store.uri('translate-instructions', STAGE_KEY, 'planted');
    const segments = await run(activities.prepareSegments, {
      stage_key: STAGE_KEY, output_prefix: `${prefix}/segments`, source: `file://${dir}/set/train.parquet`, format: 'open_orca',
      translate_responses: true, drop_code: false, max_segment_chars: 4000, shard_rows: 100,
    });
    // The translator's output, written as its shards are: here each segment "translates" to itself in capitals.
    const translations = [];
    for (const [k, shard] of (await loadRefList(store, segments.shard_list)).entries()) {
      const local = await store.fetchToLocal(shard);
      const out = path.join(dir, `translated-${k}.parquet`);
      await sql(`COPY (SELECT id, text, upper(text) AS translation FROM read_parquet('${local}')) TO '${out}' (FORMAT parquet)`);
      translations.push(await store.putFile(out, joinUri(prefix, 'translations', path.basename(out)), 'dataset'));
    }
    const list = await saveRefList(store, joinUri(prefix, 'translations.json'), translations);
    const assembled = await run(activities.assembleConversations, {
      stage_key: STAGE_KEY, output_prefix: `${prefix}/conversations`, rows: segments.rows, translation_lists: [list], decontamination,
    });

    // Each removed row is counted once, under the first evaluation set it matched (recipe order):
    // the tiny world's benchmarks share questions, so two of the ArabicMMLU ones count as AlGhafa.
    expect(Object.values(assembled.decontaminated).reduce((a, n) => a + n, 0)).toBe(6);
    expect(assembled.decontaminated.translation_dev).toBe(1);
    expect(assembled.conversations).toBe(20);
    const kept = await sql(`SELECT id FROM read_parquet('${await store.fetchToLocal(assembled.dataset)}')`);
    expect(kept.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `set.${i}`));
    // The quarantine keeps each removed row with every set it matched and the run of words it shares.
    const quarantine = await sql(`SELECT id, eval_set, eval_sets, gram FROM read_parquet('${await store.fetchToLocal(joinUri(prefix, 'conversations', 'decontaminated.parquet'))}') ORDER BY id`);
    expect(quarantine.map((r) => r.id)).toEqual(['set.20', 'set.21', 'set.22', 'set.23', 'set.24', 'set.25']);
    const matched = (id: string) => quarantine.find((r) => r.id === id)!.eval_sets as string[];
    for (const id of ['set.20', 'set.21']) expect(matched(id)).toContain('AlGhafa');
    for (const id of ['set.22', 'set.23', 'set.24']) expect(matched(id)).toContain('ArabicMMLU');
    expect(quarantine[5]).toMatchObject({ eval_set: 'translation_dev', gram: 'annual report on the state of the northern' });
    const counted: Record<string, number> = {};
    for (const r of quarantine) counted[String(r.eval_set)] = (counted[String(r.eval_set)] ?? 0) + 1;
    expect(assembled.decontaminated).toEqual(counted);
  });

  it('checks both sides of every bilingual pair, so a leaked dev pair leaves the translator corpus', async () => {
    await sql(`COPY (SELECT ord::VARCHAR AS id, source, target FROM (VALUES
        (0, 'A clean sentence about trains that run on time every morning here.', 'جملة نظيفة'),
        (1, 'Something unrelated.', 'ستنشر اللجنة تقريرها السنوي'),
        (2, '${DEV_SENTENCE}', 'ترجمة')
      ) v(ord, source, target)) TO '${dir}/pairs.parquet' (FORMAT parquet)`);
    const pairs = await store.putFile(`${dir}/pairs.parquet`, store.uri('filter-opus', STAGE_KEY, 'pairs.parquet'), 'dataset', 3);
    const out = await run(activities.assembleBilingual, {
      stage_key: STAGE_KEY, output_prefix: store.uri('build-bilingual-corpus', STAGE_KEY, 'corpus'), opus_pairs: pairs, teacher_translation_lists: [],
      language: names, both_directions: true, prompt_template: 'Translate into {target_name}:\n\n{text}', seed: 0, decontamination,
    });
    // Pair 2 repeats the dev pair's English side; pair 1 its Arabic side, a text shorter than 8 words, matched whole.
    expect(out.decontaminated).toEqual({ translation_dev: 2 });
    expect(out.pairs).toBe(1);
    expect(out.examples).toBe(2);
  });

  it('a recipe that turns the check off reads no evaluation set and removes nothing', async () => {
    const out = await run(activities.assembleBilingual, {
      stage_key: STAGE_KEY, output_prefix: store.uri('build-bilingual-corpus', STAGE_KEY, 'unchecked'),
      opus_pairs: await store.putFile(`${dir}/pairs.parquet`, store.uri('filter-opus', STAGE_KEY, 'pairs2.parquet'), 'dataset', 3),
      teacher_translation_lists: [], language: names, both_directions: false, prompt_template: '{text}', seed: 0,
    });
    expect(out).toMatchObject({ pairs: 3, decontaminated: {} });
  });
});
