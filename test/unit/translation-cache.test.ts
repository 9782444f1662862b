// The translation cache with the real pieces: the tiny world's instruction sets cut into segments by
// the real prepareSegments, split by the real splitTranslationCache (DuckDB) over the real file
// store, "translated" by a CPU stand-in of translate_shard that counts the rows it is sent, and put
// back together by the real assembleConversations. Rows are found by content: shard size, the set
// list and the batch size no longer send a translated row to the GPU again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuActivities } from '../../activities/cpu';
import { createTranslationCacheActivities } from '../../activities/translation-cache/split-activity';
import { splitCachedRows } from '../../activities/translation-cache/split-rows';
import { translationCacheNamespace } from '../../activities/translation-cache/namespace';
import { FileStore, storeLayout } from '../../activities/store';
import { loadRecipe } from '../../cli/recipe-file';
import type { Recipe } from '../../contracts/recipe';
import { SplitTranslationCacheOutput } from '../../contracts/translation-cache';
import { hubMirror } from '../../platform/python-env';
import { cacheIdentity } from '../../workflows/cached-translation';
import { promptFor } from '../../workflows/prompt';
import { segmentsRequest } from '../../workflows/stages/translate-instructions';
import { translateShardsOnCpu } from '../support/cache-translator';
import { sql } from '../support/duckdb-sql';

const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const run = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity, input) as Promise<O>;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const TRANSLATOR = sha('the translator artifact');

let dir: string;
let store: FileStore;
let recipe: Recipe;
let cpu: ReturnType<typeof createCpuActivities>;
let cache: ReturnType<typeof createTranslationCacheActivities>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'translation-cache-test-'));
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  recipe = loaded.recipe;
  cpu = createCpuActivities({ store: new FileStore(`file://${dir}/store`), hubMirror: hubMirror(), workRoot: dir });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** A fresh, empty store for one scenario (each starts from a cold cache). */
function freshStore(name: string) {
  store = new FileStore(`file://${dir}/${name}`);
  cpu = createCpuActivities({ store, hubMirror: hubMirror(), workRoot: dir });
  cache = createTranslationCacheActivities({ store, workRoot: dir });
}

interface StageRun {
  /** Rows sent to the stand-in translator, by set. */
  generated: Record<string, number>;
  cached: Record<string, number>;
  segments: Record<string, number>;
  split: Record<string, SplitTranslationCacheOutput>;
  /** The assembled conversations of each set, as JSON text, in id order. */
  conversations: Record<string, string[]>;
}

/**
 * What translate-instructions does for each set, with the stage's knobs: segments, split, translate
 * the misses, assemble hits + translations. The stage key stands for the knobs (as the real one does).
 */
async function translateInstructions(opts: { sets: string[]; shard_rows: number; batch_size?: number; max_new_tokens?: number; forced?: boolean }): Promise<StageRun> {
  const t = recipe.generation.translator;
  const generation = { ...t, batch_size: opts.batch_size ?? t.batch_size, max_new_tokens: opts.max_new_tokens ?? t.max_new_tokens };
  const stage_key = sha(JSON.stringify(opts));
  const result: StageRun = { generated: {}, cached: {}, segments: {}, split: {}, conversations: {} };
  for (const name of opts.sets) {
    const set = recipe.inputs.instruction_sets.find((s) => s.name === name)!;
    const prefix = store.uri('stages', 'translate-instructions', stage_key.slice(0, 16), name);
    const segments = await run(cpu.prepareSegments, {
      stage_key,
      output_prefix: `${prefix}/segments`,
      ...segmentsRequest(set, { ...recipe.stages.translate_instructions, shard_rows: opts.shard_rows }),
    });
    const { prompt_template, ...engine } = generation;
    const request = { output_prefix: `${prefix}/translations`, model: 'file:///translator', shard_list: segments.shard_list, shard_count: segments.shard_count, generation: engine, prompt_template: promptFor(prompt_template, recipe.language.target_name) };
    const splitInput = {
      stage_key,
      store_root: store.rootUri,
      output_prefix: `${prefix}/translations/cache-split`,
      identity: cacheIdentity(request, { model_sha256: TRANSLATOR, shard_rows: opts.shard_rows }),
      shard_list: segments.shard_list,
      shard_rows: opts.shard_rows,
      read: !opts.forced,
    };
    const split = await run(cache.splitTranslationCache, splitInput);
    expect(SplitTranslationCacheOutput.parse(split)).toEqual(split);
    const translated = await translateShardsOnCpu(store, split.miss_list, `${prefix}/translations`, { parts_prefix: split.parts_prefix, campaign_id: 'tiny', stage_key });
    // As workflows/cached-translation.ts does: rows whose text went under an earlier row are filled after the fan-out.
    let lists = [...(split.hit_rows > 0 ? [split.hit_list] : []), translated.list];
    if (split.duplicate_rows > 0) {
      const filled = await run(cache.splitTranslationCache, { ...splitInput, output_prefix: `${prefix}/translations/cache-fill`, read: true, translated_lists: lists });
      expect([filled.hit_rows, filled.miss_rows]).toEqual([segments.segment_count, 0]);
      lists = [filled.hit_list];
    }
    const assembled = await run(cpu.assembleConversations, { stage_key, output_prefix: `${prefix}/conversations`, rows: segments.rows, translation_lists: lists });
    expect(assembled.missing_translations).toBe(0);
    expect(split.hit_rows + split.miss_rows + split.duplicate_rows).toBe(segments.segment_count);
    result.segments[name] = segments.segment_count;
    result.generated[name] = translated.generated;
    result.cached[name] = split.hit_rows;
    result.split[name] = split;
    const file = await store.fetchToLocal(assembled.dataset);
    result.conversations[name] = (await sql(`SELECT to_json(messages)::VARCHAR AS m FROM read_parquet('${file}') ORDER BY id`)).map((r) => String(r.m));
  }
  return result;
}

describe('translation cache (real segments, split and assembly on the tiny world)', () => {
  it('translate once, change shard_rows, run again: 0 rows generated, the same conversations', async () => {
    freshStore('shard-rows');
    const first = await translateInstructions({ sets: ['open-orca', 'hermes-3'], shard_rows: 200 });
    expect(first.generated['open-orca']).toBeGreaterThan(100);
    expect(first.cached['open-orca']).toBe(0);
    // The tiny world's sets share sentences: hermes-3 already finds those open-orca translated just before.
    expect(first.cached['hermes-3']).toBe(await sharedTexts(first, first));

    const again = await translateInstructions({ sets: ['open-orca', 'hermes-3'], shard_rows: 37 });
    expect(again.generated).toEqual({ 'open-orca': 0, 'hermes-3': 0 });
    expect(again.cached).toEqual(first.segments);
    // Each text went to the GPUs once: repeats within the sets (system prompts, common turns) took its translation.
    expect(first.generated['open-orca']! + first.split['open-orca']!.duplicate_rows).toBe(first.segments['open-orca']);
    expect(first.split['open-orca']!.duplicate_rows).toBeGreaterThan(0);
    expect(again.split['open-orca']!.miss_count).toBe(0);
    // Hits are re-cut at the new shard size, and the conversations are the ones the first run made.
    expect(again.split['open-orca']!.hit_list.rows).toBe(Math.ceil(again.cached['open-orca']! / 37));
    expect(again.conversations).toEqual(first.conversations);
    expect(again.split['open-orca']!.hit_sources).toEqual([{ campaign_id: 'tiny', stage_key: expect.any(String), rows: again.cached['open-orca'] }]);
    // Lineage beside the hits: each part used, by digest, with who translated it.
    const from = JSON.parse((await store.getBytes(again.split['open-orca']!.hit_list.uri.replace(/hits\.json$/, 'hits-from.json'))).toString('utf8')) as { parts: { sha256: string; campaign_id: string; rows: number }[] };
    expect(from.parts.reduce((n, p) => n + p.rows, 0)).toBe(again.cached['open-orca']);
    expect(from.parts.every((p) => /^[0-9a-f]{64}$/.test(p.sha256) && p.campaign_id === 'tiny')).toBe(true);
    console.log(`[figure] segments ${JSON.stringify(first.segments)}; shard_rows 200 -> 37: generated ${JSON.stringify(first.generated)} (repeats not sent: ${first.split['open-orca']!.duplicate_rows}, ${first.split['hermes-3']!.duplicate_rows}) then ${JSON.stringify(again.generated)}, cached ${JSON.stringify(again.cached)}`);
  });

  it('add one instruction set: only its rows are generated', async () => {
    freshStore('add-set');
    const orcaOnly = await translateInstructions({ sets: ['open-orca'], shard_rows: 200 });
    const both = await translateInstructions({ sets: ['open-orca', 'hermes-3'], shard_rows: 200 });
    expect(both.generated['open-orca']).toBe(0);
    expect(both.conversations['open-orca']).toEqual(orcaOnly.conversations['open-orca']);
    // Every hermes-3 segment is generated but those whose text open-orca already had translated.
    const hermes = both.split['hermes-3']!;
    const shared = await sharedTexts(orcaOnly, both);
    expect(both.generated['hermes-3']).toBe(hermes.miss_rows);
    expect(hermes.hit_rows).toBe(shared);
    console.log(`[figure] add hermes-3: generated ${JSON.stringify(both.generated)}, cached ${JSON.stringify(both.cached)}`);
  });

  it('the translator batch size (and tensor parallelism) is not in the namespace: a changed batch generates 0 rows', async () => {
    freshStore('batch');
    const at32 = await translateInstructions({ sets: ['hermes-3'], shard_rows: 200, batch_size: 32 });
    const at8 = await translateInstructions({ sets: ['hermes-3'], shard_rows: 200, batch_size: 8 });
    expect(at32.generated['hermes-3']).toBeGreaterThan(0);
    expect(at8.generated['hermes-3']).toBe(0);
    expect(at8.split['hermes-3']!.namespace).toBe(at32.split['hermes-3']!.namespace);
    // What changes the tokens does change it: another max_new_tokens is another namespace, a cold one.
    const shorter = await translateInstructions({ sets: ['hermes-3'], shard_rows: 200, batch_size: 8, max_new_tokens: 48 });
    expect(shorter.split['hermes-3']!.namespace).not.toBe(at8.split['hermes-3']!.namespace);
    expect(shorter.generated['hermes-3']).toBe(at32.generated['hermes-3']);
    console.log(`[figure] batch 32 -> 8: generated ${at32.generated['hermes-3']} then ${at8.generated['hermes-3']}; max_new_tokens 96 -> 48: ${shorter.generated['hermes-3']}`);
  });

  it('a forced run reads nothing from the cache (it recomputes) but what it translates joins it', async () => {
    freshStore('forced');
    const first = await translateInstructions({ sets: ['hermes-3'], shard_rows: 200 });
    const forced = await translateInstructions({ sets: ['hermes-3'], shard_rows: 50, forced: true });
    expect(forced.generated['hermes-3']).toBe(first.segments['hermes-3']); // as prepared: no split at all
    expect(forced.cached['hermes-3']).toBe(0);
    expect(forced.split['hermes-3']!.parts).toBe(0);
  });

  it('a corrupt part is skipped with a count, never trusted: its rows are generated again', async () => {
    freshStore('corrupt');
    const first = await translateInstructions({ sets: ['hermes-3'], shard_rows: 40 });
    const parts = await store.list(first.split['hermes-3']!.parts_prefix);
    expect(parts.length).toBeGreaterThan(1);
    // Change one translated parquet under its pointer: its digest no longer matches.
    const pointers = await Promise.all(parts.map(async (p) => JSON.parse((await store.getBytes(p)).toString('utf8')) as { translations: { uri: string } }));
    const [pointer, ...others] = pointers.map((p) => `'${new URL(p.translations.uri).pathname}'`);
    // Its rows come back from the other parts where they hold the same text; the rest are generated again.
    const [only] = await sql(`SELECT count(*) AS n FROM read_parquet(${pointer}) WHERE text NOT IN (SELECT text FROM read_parquet([${others.join(', ')}]))`);
    expect(Number(only?.n)).toBeGreaterThan(0);
    await writeFile(new URL(pointers[0]!.translations.uri), 'not the parquet the pointer names');
    // And a pointer that is not one at all.
    await store.putBytes(`${first.split['hermes-3']!.parts_prefix}/${'0'.repeat(64)}.json`, '{"translations": 1}');
    const again = await translateInstructions({ sets: ['hermes-3'], shard_rows: 40 });
    expect(again.split['hermes-3']!.skipped_parts).toBe(2);
    expect(again.generated['hermes-3']).toBe(Number(only?.n));
    expect(again.conversations).toEqual(first.conversations);
  });
});

/** Segments of hermes-3 whose text open-orca's segments also have (those are hits in the second run). */
async function sharedTexts(orcaOnly: StageRun, both: StageRun): Promise<number> {
  const files = async (list: { uri: string }) => (JSON.parse((await store.getBytes(list.uri)).toString('utf8')) as { refs: { uri: string }[] }).refs.map((r) => new URL(r.uri).pathname);
  const orca = await files(orcaOnly.split['open-orca']!.miss_list);
  const hermes = [...(await files(both.split['hermes-3']!.miss_list)), ...(both.split['hermes-3']!.hit_rows > 0 ? await files(both.split['hermes-3']!.hit_list) : [])];
  const list = (fs: string[]) => `[${fs.map((f) => `'${f}'`).join(', ')}]`;
  const [row] = await sql(`SELECT count(*) AS n FROM read_parquet(${list(hermes)}) WHERE text IN (SELECT text FROM read_parquet(${list(orca)}))`);
  return Number(row?.n);
}

describe('splitCachedRows', () => {
  const parquet = async (name: string, rows: string) => {
    const file = path.join(dir, name);
    await sql(`COPY (SELECT * FROM (VALUES ${rows}) v(id, text, translation)) TO '${file}' (FORMAT parquet)`);
    return file;
  };

  it('takes only rows with a translation (a quarantined row has none), the first part wins, a missing text is sent once, both sides re-cut in segment order', async () => {
    const segments = [await parquet('seg-0.parquet', `('s1', 'a', NULL), ('s2', 'b', NULL), ('s3', 'c', NULL)`), await parquet('seg-1.parquet', `('s4', 'a', NULL), ('s5', 'd', NULL), ('s6', 'c', NULL)`)];
    const parts = [
      { path: await parquet('part-0.parquet', `('x1', 'a', 'A'), ('x2', 'b', NULL)`), part: 0 },
      { path: await parquet('part-1.parquet', `('y1', 'a', 'A-later'), ('y2', 'd', 'D')`), part: 1 },
    ];
    const work = await mkdtemp(path.join(dir, 'split-'));
    const split = await splitCachedRows({ segments, parts, shardRows: 2, workDir: work });
    // Files in the order given, rows in file order (DuckDB keeps insertion order).
    const rows = async (files: { path: string }[]) => sql(`SELECT * FROM read_parquet([${files.map((f) => `'${f.path}'`).join(', ')}])`);
    expect(split.hits.map((h) => h.rows)).toEqual([2, 1]);
    expect(await rows(split.hits)).toEqual([
      { id: 's1', text: 'a', translation: 'A' },
      { id: 's4', text: 'a', translation: 'A' },
      { id: 's5', text: 'd', translation: 'D' },
    ]);
    expect(split.misses.map((m) => m.rows)).toEqual([2]);
    // `c` is sent once (s3); s6 takes its translation after the fan-out.
    expect(await rows(split.misses)).toEqual([{ id: 's2', text: 'b' }, { id: 's3', text: 'c' }]);
    expect(split.duplicates).toBe(1);
    expect([...split.hitsByPart].sort()).toEqual([[0, 2], [1, 1]]);
    expect(split.unreadable).toEqual([]);
  });

  it('counts a part DuckDB cannot read as (text, translation) and uses the rest', async () => {
    const segments = [await parquet('seg-2.parquet', `('s1', 'a', NULL)`)];
    const wrong = path.join(dir, 'wrong.parquet');
    await sql(`COPY (SELECT 'a' AS source) TO '${wrong}' (FORMAT parquet)`);
    const split = await splitCachedRows({ segments, parts: [{ path: wrong, part: 0 }, { path: await parquet('ok.parquet', `('x', 'a', 'A')`), part: 1 }], shardRows: 10, workDir: await mkdtemp(path.join(dir, 'split-')) });
    expect(split.unreadable).toEqual([0]);
    expect(split.hits.map((h) => h.rows)).toEqual([1]);
  });
});

it('the namespace changes with the model, the prompt, the engine and max_new_tokens, and only with them', () => {
  const base = { model_sha256: 'a'.repeat(64), prompt_template: 'To X: {text}', engine: 'auto', max_new_tokens: 96 };
  const ns = translationCacheNamespace(base);
  expect(translationCacheNamespace({ ...base })).toBe(ns);
  for (const changed of [{ model_sha256: 'b'.repeat(64) }, { prompt_template: 'To Y: {text}' }, { engine: 'vllm' }, { max_new_tokens: 48 }]) {
    expect(translationCacheNamespace({ ...base, ...changed })).not.toBe(ns);
  }
  // What only changes how rows are sent (or how many may fail alone) is not part of what finds them.
  const request = (batch_size: number, tensor_parallel_size: number, max_error_rate: number) => ({
    output_prefix: 'file:///p', model: 'file:///m', shard_list: { uri: 'file:///l', sha256: 'c'.repeat(64), kind: 'report' as const, bytes: 1 }, shard_count: 1,
    generation: { engine: 'auto' as const, batch_size, max_new_tokens: 96, tensor_parallel_size, max_error_rate }, prompt_template: 'To X: {text}',
  });
  const cacheOf = { model_sha256: 'a'.repeat(64), shard_rows: 10 };
  expect(translationCacheNamespace(cacheIdentity(request(8, 2, 0), cacheOf))).toBe(translationCacheNamespace(cacheIdentity(request(32, 1, 0.01), cacheOf)));
  expect(storeLayout.translationCacheParts('file:///s', ns)).toBe(`file:///s/translation-cache/${ns}/parts`);
});
