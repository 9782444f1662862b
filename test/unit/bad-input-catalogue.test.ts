// The bad-input catalogue: each case is something a user or an upstream stage really gets wrong.
// Every one ends in a typed, non-retryable error that names the field or file (and the fix), or in
// row quarantine with counts — never a crash, never a half-written artifact.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuActivities } from '../../activities/cpu';
import { createStageCacheActivities } from '../../activities/stage-cache';
import { createRefListActivities } from '../../activities/ref-lists';
import { FileStore } from '../../activities/store';
import { parseRecipeText } from '../../cli/recipe-file';
import { Language, Recipe } from '../../contracts/recipe';
import { sql } from '../support/duckdb-sql';
import { arabicLanguage } from '../support/language-samples';

const STAGE_KEY = 'c'.repeat(64);
// Each activity takes the part of the language it reads (contracts/cpu-activities.ts).
const { source, target, source_name, target_name, source_script, target_script } = Language.parse(arabicLanguage);
const language = { source, target, source_script, target_script };
const names = { source, target, source_name, target_name };
const filters = Recipe.shape.stages.shape.filter_opus.parse({});
const tiny = readFileSync(path.join(__dirname, '../../recipes/tiny.yaml'), 'utf8');
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
/** env.run with the activity's own input and output types. */
const run = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity, input) as Promise<O>;

let dir: string;
let store: FileStore;
let acts: ReturnType<typeof createCpuActivities>;
let stageCache: ReturnType<typeof createStageCacheActivities>;


async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hala-bad-input-'));
  store = new FileStore(`file://${dir}/store`);
  acts = createCpuActivities({ store, hubMirror: path.join(dir, 'mirror'), workRoot: dir });
  stageCache = createStageCacheActivities({ store, hubMirror: path.join(dir, 'mirror') });
  await mkdir(path.join(dir, 'data'), { recursive: true });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('bad recipes: rejected before anything starts, one line per problem', () => {
  const cases: [string, (t: string) => string, RegExp][] = [
    ['a wrong type', (t) => t.replace('epochs: 8', 'epochs: three'), /stages\.train_translator\.epochs must be number \(got "three"\)/],
    ['a zero knob', (t) => t.replace('translate_instructions: { shard_rows: 200 }', 'translate_instructions: { shard_rows: 0 }'), /stages\.translate_instructions\.shard_rows must be > 0 \(got 0\)/],
    ['a negative knob', (t) => t.replace('learning_rate: 0.003', 'learning_rate: -0.1'), /stages\.train_translator\.learning_rate must be > 0 \(got -0\.1\)/],
    ['a language that is not a BCP-47 tag', (t) => t.replace('target: ar,', 'target: arabic,'), /^language\.target must be a BCP-47 language tag such as en, fr or zh-Hans \(got "arabic"\)$/],
    ['a language without its target name (there is no default language)', (t) => t.replace(' target_name: Arabic,', ''), /^language\.target_name is required \(expected string\)$/],
    ['a recipe that names no language', (t) => t.replace(/^language: .*\n/m, ''), /^language is required \(expected object\)$/],
    ['a recipe with a 2 MB inline field', (t) => t.replace('description: ', `description: ${'x'.repeat(2 << 20)} `), /^bad\.yaml: the recipe is 2\d\d\d KiB, over the 256 KiB limit/],
    ['an unknown stage', (t) => t.replace('  merge: { t: 0.5 }', '  merge: { t: 0.5 }\n  distill: { t: 1 }'), /stages\.distill is not a known setting/],
    ['an unknown benchmark format (model or task that does not exist)', (t) => t.replace('format: exams', 'format: exams_v9'), /inputs\.benchmarks\[2\]\.format must be one of/],
    ['a missing input', (t) => t.replace(/ {2}open_orca: .*\n/, ''), /inputs\.open_orca is required/],
    ['a model from an unsupported scheme', (t) => t.replace('base: hf://hala-tiny/lfm2-350m', 'base: gs://bucket/model'), /stages\.sft\.students\[2\]\.base must be an hf:\/\/, file:\/\/ or s3:\/\/ URI/],
    ['a path escape in a source', (t) => t.replace('teacher: hf://hala-tiny/command-a-translate', 'teacher: file:///data/../etc/passwd'), /inputs\.teacher must not contain "\.\." path segments/],
    ['a merge t outside [0, 1]', (t) => t.replace('merge: { t: 0.5 }', 'merge: { t: [0.2, 1.7] }'), /stages\.merge\.t/],
    ['two students with one name (their stages would collide)', (t) => t.replace('name: hala-700m', 'name: hala-350m'), /duplicates student "hala-350m"/],
  ];
  it.each(cases)('%s', (_name, mutate, expected) => {
    const r = parseRecipeText(mutate(tiny), 'bad.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join('\n')).toMatch(expected);
  });
});

describe('bad data: typed errors naming the file, or quarantine with counts', () => {
  const base = () => ({ stage_key: STAGE_KEY, output_prefix: store.uri('filter', STAGE_KEY), language, filters });

  it('a missing file', async () => {
    const f = await failureOf(run(acts.filterOpus, { ...base(), opus: `file://${dir}/data/nope.parquet` }));
    expect(f).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(f.message).toContain('nope.parquet');
  });

  it('a corrupt parquet file', async () => {
    await writeFile(path.join(dir, 'data', 'corrupt.parquet'), Buffer.from([0x50, 0x41, 0x52, 0x31, 1, 2, 3]));
    const f = await failureOf(run(acts.filterOpus, { ...base(), opus: `file://${dir}/data/corrupt.parquet` }));
    expect(f).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(f.message).toContain('corrupt.parquet is not a readable parquet file');
  });

  it('non-UTF-8 bytes where text is expected', async () => {
    await writeFile(path.join(dir, 'data', 'latin1.parquet'), Buffer.from('caf\xe9 au lait', 'latin1'));
    const f = await failureOf(run(acts.filterOpus, { ...base(), opus: `file://${dir}/data/latin1.parquet` }));
    expect(f).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(f.message).toContain('latin1.parquet');
  });

  it('a missing column', async () => {
    await sql(`COPY (SELECT 'hello' AS text) TO '${dir}/data/nocol.parquet' (FORMAT parquet)`);
    const f = await failureOf(run(acts.filterOpus, { ...base(), opus: `file://${dir}/data/nocol.parquet` }));
    expect(f).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(f.message).toMatch(/translation/);
  });

  it('an empty split: nothing to keep, every bucket zero, no crash', async () => {
    await sql(`COPY (SELECT {'en': 'x', 'ar': 'y'} AS translation WHERE false) TO '${dir}/data/empty.parquet' (FORMAT parquet)`);
    const out = await run(acts.filterOpus, { ...base(), opus: `file://${dir}/data/empty.parquet` });
    expect(out.counts).toMatchObject({ read: 0, kept: 0 });
  });

  it('rows past the length limit are quarantined and counted, the rest go on', async () => {
    const long = 'word '.repeat(400);
    await sql(`COPY (SELECT * FROM (VALUES ('o.1', '', 'Short question?', 'Short answer.'), ('o.2', '', '${long}', 'ok')) v(id, system_prompt, question, response))
      TO '${dir}/data/orca.parquet' (FORMAT parquet)`);
    const out = await run(acts.prepareSegments, {
      stage_key: STAGE_KEY, output_prefix: store.uri('segments', STAGE_KEY), source: `file://${dir}/data/orca.parquet`,
      format: 'open_orca' as const, translate_responses: true, drop_code: false, max_segment_chars: 500, shard_rows: 10,
    });
    expect(out.row_count).toBe(1);
    expect(out.quarantined).toEqual({ segment_too_long: 1 });
  });

  it('an activity payload with a wrong field names it and is not retried', async () => {
    const f = await failureOf(run(acts.filterOpus, { ...base(), opus: 'file:///data/x.parquet', filters: { ...filters, max_length_ratio: 0.5 } }));
    expect(f).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(f.message).toContain('filterOpus.filters.max_length_ratio');
  });
});

describe('bad artifacts: never taken for whole', () => {
  it('a digest mismatch is ArtifactCorrupt naming the artifact', async () => {
    await sql(`COPY (SELECT {'en': 'Good morning.', 'ar': 'صباح الخير.'} AS translation) TO '${dir}/data/opus.parquet' (FORMAT parquet)`);
    const prefix = store.uri('pairs', STAGE_KEY);
    const { pairs } = await run(acts.filterOpus, { stage_key: STAGE_KEY, output_prefix: prefix, opus: `file://${dir}/data/opus.parquet`, language, filters });
    const input = {
      stage_key: STAGE_KEY, output_prefix: prefix, opus_pairs: { ...pairs, sha256: 'f'.repeat(64) }, teacher_translation_lists: [], language: names,
      both_directions: true, prompt_template: 'Translate everything that follows into {target_name}:\n\n{text}', seed: 1,
    };
    const f = await failureOf(run(acts.assembleBilingual, input));
    expect(f).toMatchObject({ type: 'ArtifactCorrupt', nonRetryable: true });
    expect(f.message).toContain(pairs.uri);
  });

  it('a missing artifact names it', async () => {
    const ref = { uri: store.uri('gone', 'rows.parquet'), sha256: 'a'.repeat(64), kind: 'dataset' as const, bytes: 1 };
    const f = await failureOf(run(acts.assembleConversations, { stage_key: STAGE_KEY, output_prefix: store.uri('asm'), rows: ref, translation_lists: [] }));
    expect(f.message).toContain('gone/rows.parquet');
  });

  it('a truncated checkpoint (directory without its manifest) is not taken for a finished model', async () => {
    const model = path.join(dir, 'store', 'half-written-model');
    await mkdir(model, { recursive: true });
    await writeFile(path.join(model, 'model.safetensors'), 'partial');
    const ref = { uri: `file://${model}`, sha256: 'b'.repeat(64), kind: 'model' as const, bytes: 7 };
    await expect(store.fetchToLocal(ref)).rejects.toThrow(/half-written-model/);
  });

  it('an unknown model (no such hub repo) stops its stage at open, before any GPU queue is woken', async () => {
    const f = await failureOf(
      run(stageCache.openStage, { store_root: store.rootUri, stage: 'sft-x', config: {}, inputs: ['hf://hala-tiny/lfm2-9b-typo'], runner_version: '0', checks: [], forced: false }),
    );
    expect(f).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(f.message).toContain('hf://hala-tiny/lfm2-9b-typo');
  });

  it('a source that is not what its field says stops its stage at open, naming the field', async () => {
    const open = (uri: string, kind: 'model' | 'dataset', field: string) =>
      failureOf(run(stageCache.openStage, { store_root: store.rootUri, stage: 'compress-teacher', config: {}, inputs: [uri], checks: [{ uri, field, kind }], runner_version: '0', forced: false }));
    const passwd = await open('file:///etc/passwd', 'model', 'inputs.teacher');
    expect(passwd).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(passwd.message).toBe('openStage compress-teacher: inputs.teacher = file:///etc/passwd is a file, not a model directory: a model is a directory with config.json and its weights (*.safetensors); point inputs.teacher at one');
    const half = path.join(dir, 'half-model');
    await mkdir(half, { recursive: true });
    await writeFile(path.join(half, 'config.json'), '{}');
    expect((await open(`file://${half}`, 'model', 'stages.sft.students[0].base')).message).toContain('stages.sft.students[0].base = file://' + half + ' has config.json but no weights');
    await writeFile(path.join(dir, 'data', 'notes.parquet'), 'not parquet at all');
    const notParquet = await open(`file://${dir}/data/notes.parquet`, 'dataset', 'inputs.opus');
    expect(notParquet).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(notParquet.message).toContain('inputs.opus = file://' + dir + '/data/notes.parquet is not a parquet file');
  });

  it('a shard list changed after it was written is ArtifactCorrupt; a page past its end is BadInput', async () => {
    const lists = createRefListActivities({ store });
    const shard = { uri: store.uri('s', 'shard-0.parquet'), sha256: 'a'.repeat(64), kind: 'dataset' as const, bytes: 1 };
    const list = await run(lists.saveRefList, { uri: store.uri('s', 'shards.json'), refs: [shard] });
    expect(await run(lists.loadRefPage, { list, start: 0, count: 1 })).toEqual([shard]);
    const past = await failureOf(run(lists.loadRefPage, { list, start: 1, count: 1 }));
    expect(past).toMatchObject({ type: 'BadInput', nonRetryable: true });
    await writeFile(path.join(dir, 'store', 's', 'shards.json'), JSON.stringify({ refs: [] }));
    const tampered = await failureOf(run(lists.loadRefPage, { list, start: 0, count: 1 }));
    expect(tampered).toMatchObject({ type: 'ArtifactCorrupt', nonRetryable: true });
    expect(tampered.message).toContain('shards.json');
  });

  it('a corrupt stage manifest is refused instead of being served from the cache', async () => {
    const opened = await run(stageCache.openStage, { store_root: store.rootUri, stage: 's', config: {}, inputs: [], runner_version: '0', checks: [], forced: false });
    await mkdir(path.join(dir, 'store', 'cache'), { recursive: true });
    await writeFile(path.join(dir, 'store', 'cache', `${opened.stage_key}.json`), JSON.stringify({ stage_key: 'd'.repeat(64), output: {} }));
    const f = await failureOf(run(stageCache.openStage, { store_root: store.rootUri, stage: 's', config: {}, inputs: [], runner_version: '0', checks: [], forced: false }));
    expect(f).toMatchObject({ type: 'ArtifactCorrupt', nonRetryable: true });
    expect(f.message).toContain('delete the file');
  });
});
