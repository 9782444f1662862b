import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCpuActivities } from '../../activities/cpu';
import { FileStore } from '../../activities/store';
import { loadRefList, saveRefList } from '../../activities/ref-lists';
import {
  AssembleBilingualOutput,
  AssembleConversationsOutput,
  FilterOpusOutput,
  PrepareSegmentsOutput,
  PrepareTranslationDevOutput,
} from '../../contracts/cpu-activities';
import { Language, Recipe } from '../../contracts/recipe';
import { sql } from '../support/duckdb-sql';
import { arabicLanguage } from '../support/language-samples';

const STAGE_KEY = 'a'.repeat(64);
// Each activity takes the part of the language it reads (contracts/cpu-activities.ts).
const { source, target, source_name, target_name, source_script, target_script } = Language.parse(arabicLanguage);
const language = { source, target, source_script, target_script };
const names = { source, target, source_name, target_name };
const filters = Recipe.shape.stages.shape.filter_opus.parse({});

let dir: string;
let mirror: string;
let store: FileStore;
let activities: ReturnType<typeof createCpuActivities>;
// Failures are asserted below; the worker's WARN log of each one would only be noise.
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
/** env.run with the activity's own input and output types. */
const run = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity, input) as Promise<O>;


/** A hub mirror laid out like hf://datasets/<org>/<name>/<file>, with OPUS and Open-Orca samples. */
async function writeMirror(): Promise<void> {
  const opusDir = path.join(mirror, 'datasets', 'Helsinki-NLP', 'opus-100', 'en-ar');
  const orcaDir = path.join(mirror, 'datasets', 'Open-Orca', 'OpenOrca');
  await mkdir(opusDir, { recursive: true });
  await mkdir(orcaDir, { recursive: true });
  await sql(`COPY (SELECT translation FROM (VALUES
      (0, {'en': 'Good morning.', 'ar': 'صباح الخير.'}),
      (1, {'en': 'Good morning.', 'ar': 'صباح الخير.'}),
      (2, {'en': 'Where is the station?', 'ar': 'أين المحطة؟'}),
      (3, {'en': '', 'ar': 'فارغ'})
    ) v(i, translation) ORDER BY i) TO '${opusDir}/train.parquet' (FORMAT parquet)`);
  await sql(`COPY (SELECT id, system_prompt, question, response FROM (VALUES
      (0, 'niv.1', 'You are a helpful assistant.', 'What is the capital of France?', 'Paris.'),
      (1, 'niv.2', '', 'Name a primary colour.', 'Red.')
    ) v(i, id, system_prompt, question, response) ORDER BY i) TO '${orcaDir}/part-0.parquet' (FORMAT parquet)`);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cpu-activities-test-'));
  mirror = path.join(dir, 'mirror');
  store = new FileStore(`file://${dir}/store`);
  activities = createCpuActivities({ store, hubMirror: mirror, workRoot: dir });
  await writeMirror();
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('CPU activities', () => {
  it('filterOpus reads hf:// through the mirror and publishes pairs under output_prefix', async () => {
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const output = await run(activities.filterOpus, {
      stage_key: STAGE_KEY, output_prefix: store.uri('filter-opus', STAGE_KEY),
      opus: 'hf://datasets/Helsinki-NLP/opus-100/en-ar', language, filters,
    });
    expect(FilterOpusOutput.parse(output)).toEqual(output);
    expect(output.pairs).toMatchObject({ uri: store.uri('filter-opus', STAGE_KEY, 'pairs.parquet'), kind: 'dataset', rows: 2 });
    expect(output.counts).toMatchObject({ read: 4, kept: 2, empty: 1, exact_duplicate: 1 });
    expect(beats[0]).toMatchObject({ phase: 'filterOpus', checkpoint_uri: null });
    env.removeAllListeners('heartbeat');
  });

  it('rejects bad input with one BadInput message listing every issue', async () => {
    const failure = await failureOf(run(activities.filterOpus, {
      stage_key: 'nope', output_prefix: store.uri('x'), opus: 'http://example.com/opus.parquet', language,
      filters: { ...filters, max_chars: -1 },
    }));
    expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
    for (const field of ['stage_key', 'opus', 'filters.max_chars']) expect(failure.message).toContain(`filterOpus.${field}: `);
  });

  it('reports a missing source and bad parquet as BadInput naming the URI', async () => {
    const base = { stage_key: STAGE_KEY, output_prefix: store.uri('p'), language, filters };
    const missing = await failureOf(run(activities.filterOpus, { ...base, opus: 'hf://datasets/nobody/nothing/x.parquet' }));
    expect(missing).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(missing.message).toMatch(/hf:\/\/datasets\/nobody\/nothing\/x\.parquet is not in the hub mirror/);

    await writeFile(path.join(dir, 'broken.parquet'), 'PAR1 but not really');
    const broken = await failureOf(run(activities.filterOpus, { ...base, opus: `file://${dir}/broken.parquet` }));
    expect(broken).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(broken.message).toContain(`file://${dir}/broken.parquet is not a readable parquet file`);
  });

  it('reads a split sharded over several files through a glob, as the hub lays them out', async () => {
    const orcaDir = path.join(mirror, 'datasets', 'Open-Orca', 'OpenOrca');
    await sql(`COPY (SELECT 'niv.3' AS id, '' AS system_prompt, 'Count to two.' AS question, 'One, two.' AS response) TO '${orcaDir}/part-1.parquet' (FORMAT parquet)`);
    const prepared = await run(activities.prepareSegments, {
      stage_key: STAGE_KEY, output_prefix: store.uri('glob', STAGE_KEY), source: 'hf://datasets/Open-Orca/OpenOrca/part-*.parquet', format: 'open_orca',
      translate_responses: true, drop_code: false, max_segment_chars: 2000, shard_rows: 10,
    });
    expect(prepared.row_count).toBe(3);
    const none = await failureOf(run(activities.prepareSegments, {
      stage_key: STAGE_KEY, output_prefix: store.uri('glob', STAGE_KEY), source: 'hf://datasets/Open-Orca/OpenOrca/valid-*.parquet', format: 'open_orca',
      translate_responses: true, drop_code: false, max_segment_chars: 2000, shard_rows: 10,
    }));
    expect(none.message).toContain('hf://datasets/Open-Orca/OpenOrca/valid-*.parquet matches no file');
  });

  it('prepareSegments → translate → assembleConversations round trip through the store', async () => {
    const prefix = store.uri('translate', STAGE_KEY);
    const prepared = await run(activities.prepareSegments, {
      stage_key: STAGE_KEY, output_prefix: prefix, source: 'hf://datasets/Open-Orca/OpenOrca', format: 'open_orca',
      translate_responses: true, drop_code: false, max_segment_chars: 2000, shard_rows: 3,
    });
    expect(PrepareSegmentsOutput.parse(prepared)).toEqual(prepared);
    expect(prepared).toMatchObject({ row_count: 2, segment_count: 4, quarantined: {} });
    // The shards come as one list in the store (a workflow carries one reference, not thousands).
    expect(prepared).toMatchObject({ shard_count: 2, shard_list: { uri: `${prefix}/shards.json`, rows: 2 } });
    const shards = await loadRefList(store, prepared.shard_list);
    expect(shards.map((s) => s.uri)).toEqual([`${prefix}/shards/shard-00000.parquet`, `${prefix}/shards/shard-00001.parquet`]);
    expect(prepared.rows.rows).toBe(5);

    // Stand-in for the translator: every segment but niv.2's answer comes back.
    const answers: Record<string, string> = {
      'niv.1#1': 'ما هي عاصمة فرنسا؟', 'niv.1#2': 'باريس.', 'niv.2#0': 'اذكر لونا أساسيا.',
    };
    const translations = [];
    for (const [i, shard] of shards.entries()) {
      const local = path.join(dir, `translated-${i}.parquet`);
      const segments = await sql(`SELECT id, text FROM read_parquet('${await store.fetchToLocal(shard)}')`);
      const values = segments.map((s) => `('${s.id}', '${s.text}', ${answers[String(s.id)] ? `'${answers[String(s.id)]}'` : 'NULL'})`);
      await sql(`COPY (SELECT * FROM (VALUES ${values.join(', ')}) v(id, text, translation)) TO '${local}' (FORMAT parquet)`);
      translations.push(await store.putFile(local, `${prefix}/translated/shard-${i}.parquet`, 'dataset', segments.length));
    }
    // Two fan-out runs, each with its list of translated shards: the assembler reads them in order.
    const lists = [
      await saveRefList(store, `${prefix}/translated/run-0.json`, translations.slice(0, 1)),
      await saveRefList(store, `${prefix}/translated/run-1.json`, translations.slice(1)),
    ];
    const assembled = await run(activities.assembleConversations, {
      stage_key: STAGE_KEY, output_prefix: prefix, rows: prepared.rows, translation_lists: lists,
    });
    expect(AssembleConversationsOutput.parse(assembled)).toEqual(assembled);
    expect(assembled).toMatchObject({ conversations: 1, missing_translations: 1, dataset: { rows: 1 } });
  });

  it('refuses a tampered input artifact as ArtifactCorrupt', async () => {
    const prefix = store.uri('bilingual', STAGE_KEY);
    const pairs = (await run(activities.filterOpus, {
      stage_key: STAGE_KEY, output_prefix: prefix, opus: 'hf://datasets/Helsinki-NLP/opus-100/en-ar', language, filters,
    })).pairs;
    const input = {
      stage_key: STAGE_KEY, output_prefix: prefix, opus_pairs: pairs, teacher_translation_lists: [], language: names,
      both_directions: true, prompt_template: 'Translate everything that follows into {target_name}:\n\n{text}', seed: 3,
    };
    const bilingual = await run(activities.assembleBilingual, input);
    expect(AssembleBilingualOutput.parse(bilingual)).toEqual(bilingual);
    expect(bilingual).toMatchObject({ pairs: 2, examples: 4, by_origin: { opus: 2 } });

    await writeFile(path.join(dir, 'store', 'bilingual', STAGE_KEY, 'pairs.parquet'), 'changed behind our back');
    const failure = await failureOf(run(activities.assembleBilingual, input));
    expect(failure).toMatchObject({ type: 'ArtifactCorrupt', nonRetryable: true });
    expect(failure.message).toContain(`${pairs.uri}: sha256`);
  });

  it('prepareTranslationDev publishes segments and references with the same ids', async () => {
    const output = await run(activities.prepareTranslationDev, {
      stage_key: STAGE_KEY, output_prefix: store.uri('dev', STAGE_KEY), dev: 'hf://datasets/Helsinki-NLP/opus-100/en-ar/train.parquet', language: { source, target }, rows: 2,
    });
    expect(PrepareTranslationDevOutput.parse(output)).toEqual(output);
    expect(output.rows).toBe(2);
    const segments = await sql(`SELECT id FROM read_parquet('${await store.fetchToLocal(output.segments)}')`);
    const references = await sql(`SELECT id FROM read_parquet('${await store.fetchToLocal(output.references)}')`);
    expect(segments).toEqual(references);
  });
});
