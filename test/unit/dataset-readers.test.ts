// Every real input of recipes/hala-paper.yaml read by its real reader: each dataset's file is
// generated with the column names and nested types its hub repo holds (test/support/dataset-layouts.ts),
// placed in a hub mirror at the path the recipe names (globs over two shards where the hub shards),
// and read by the CPU activity with exactly the knobs the recipe gives it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuActivities } from '../../activities/cpu';
import { parseHubId } from '../../activities/hub-id';
import { CorpusDb, loadParquet } from '../../activities/corpus/corpus-db';
import { saveRefList } from '../../activities/ref-lists';
import { FileStore } from '../../activities/store';
import { loadRecipe } from '../../cli/recipe-file';
import type { PrepareSegmentsOutput } from '../../contracts/cpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { segmentsRequest } from '../../workflows/stages/translate-instructions';
import { type HubDataset, layouts, TULU_AYA, writeDataset } from '../support/dataset-layouts';
import { sql } from '../support/duckdb-sql';

const STAGE_KEY = 'b'.repeat(64);
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const run = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity, input) as Promise<O>;

/** The generated layout of each instruction set of the paper recipe. */
const SET_LAYOUTS: Record<string, () => HubDataset> = {
  'open-orca': layouts.openOrca,
  'hermes-3': layouts.hermes3,
  'scp-116k': layouts.scp116k,
  'realign-alpaca': layouts.realignAlpaca,
  'dahoas-pairwise': layouts.dahoasPairwise,
  lamini: layouts.lamini,
  'tulu-3-en': layouts.tulu3,
};

let dir: string;
let mirror: string;
let store: FileStore;
let recipe: Recipe;
let activities: ReturnType<typeof createCpuActivities>;

/**
 * Puts `dataset`'s files in the mirror at their paths in its hub repo, so the recipe's URI (path,
 * glob) must name them as the hub does for the reader to find them.
 */
async function serve(uri: string, dataset: HubDataset): Promise<void> {
  expect(parseHubId(uri).repo).toBe(dataset.repo);
  await writeDataset(path.join(mirror, 'datasets', dataset.repo), dataset);
}

const setNamed = (name: string) => {
  const set = recipe.inputs.instruction_sets.find((s) => s.name === name);
  if (!set) throw new Error(`recipes/hala-paper.yaml has no instruction set ${name}`);
  return set;
};

let prefixes = 0;
/** prepareSegments on a set of the paper recipe, as translate-instructions asks for it. */
const prepare = (name: string): Promise<PrepareSegmentsOutput> =>
  run(activities.prepareSegments, {
    stage_key: STAGE_KEY,
    output_prefix: store.uri('segments', String(prefixes++)),
    ...segmentsRequest(setNamed(name), recipe.stages.translate_instructions),
  });

/** rows.parquet as {row_id: [[role, content], ...]}, in the order written. */
async function conversationsOf(output: PrepareSegmentsOutput): Promise<Record<string, [string, string][]>> {
  const turns = await sql(`SELECT row_id, role, content FROM read_parquet('${await store.fetchToLocal(output.rows)}')`);
  const byRow: Record<string, [string, string][]> = {};
  for (const t of turns) (byRow[String(t.row_id)] ??= []).push([String(t.role), String(t.content)]);
  return byRow;
}

beforeAll(async () => {
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/hala-paper.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  recipe = loaded.recipe;
  dir = await mkdtemp(path.join(os.tmpdir(), 'dataset-readers-'));
  mirror = path.join(dir, 'mirror');
  store = new FileStore(`file://${dir}/store`);
  activities = createCpuActivities({ store, hubMirror: mirror, workRoot: dir });
  await serve(recipe.inputs.opus, layouts.opusTrain());
  await serve(recipe.inputs.translation_dev, layouts.opusTest());
  for (const set of recipe.inputs.instruction_sets) await serve(set.uri, SET_LAYOUTS[set.name]!());
}, 60_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('readers of the paper recipe inputs', () => {
  it('has a generated layout for every instruction set the recipe reads', () => {
    expect(recipe.inputs.instruction_sets.map((s) => s.name).sort()).toEqual(Object.keys(SET_LAYOUTS).sort());
  });

  it('OPUS-100 ar-en: pairs from the translation struct {ar, en}, English as source, ids by position', async () => {
    const { source, target, source_script, target_script } = recipe.language;
    const output = await run(activities.filterOpus, {
      stage_key: STAGE_KEY, output_prefix: store.uri('opus'), opus: recipe.inputs.opus,
      language: { source, target, source_script, target_script }, filters: recipe.stages.filter_opus,
    });
    expect(output.counts).toMatchObject({ read: 4, kept: 2, empty: 2 });
    expect(await sql(`SELECT * FROM read_parquet('${await store.fetchToLocal(output.pairs)}')`)).toEqual([
      { id: '0', source: 'Good morning.', target: 'صباح الخير.' },
      { id: '1', source: 'Where is the station?', target: 'أين المحطة؟' },
    ]);
    const dev = await run(activities.prepareTranslationDev, {
      stage_key: STAGE_KEY, output_prefix: store.uri('dev'), dev: recipe.inputs.translation_dev, language: { source, target }, rows: 2,
    });
    const segments = await sql(`SELECT text FROM read_parquet('${await store.fetchToLocal(dev.segments)}') ORDER BY text`);
    expect(segments.map((s) => s.text)).toEqual(['Thank you very much.', 'The book is on the table.']);
  });

  it('Open-Orca: ids from the id column, a blank system prompt left out, a null response quarantined', async () => {
    expect(recipe.inputs.open_orca).toBe(setNamed('open-orca').uri);
    const output = await prepare('open-orca');
    expect(output).toMatchObject({ row_count: 2, quarantined: { empty: 1 } });
    expect(await conversationsOf(output)).toEqual({
      'niv.242684': [
        ['system', 'You are an AI assistant. Provide a detailed answer.'],
        ['user', 'What is the capital of Peru?'],
        ['assistant', 'Lima is the capital of Peru.'],
      ],
      'flan.564327': [['user', 'Translate "thank you" into Spanish.'], ['assistant', 'Gracias.']],
    });
  });

  it('Hermes-3: ShareGPT system/human/gpt become system/user/assistant over both shards, code rows removed and counted', async () => {
    const output = await prepare('hermes-3');
    // Position ids run over the shards in name order: 0-1 in 0000.parquet, 2-5 in 0001.parquet.
    expect(output).toMatchObject({ row_count: 3, quarantined: { code: 1, empty: 1, no_answer: 1 } });
    expect(await conversationsOf(output)).toEqual({
      0: [['system', 'You are Hermes, a helpful assistant.'], ['user', 'Name the largest planet.'], ['assistant', 'Jupiter is the largest planet.']],
      2: [['user', 'Hi there.'], ['assistant', 'Hello! How can I help?'], ['user', 'What is 2 + 2?'], ['assistant', '2 + 2 = 4.']],
      3: [['user', 'Say yes.'], ['assistant', 'Yes.']],
    });
  });

  it('Hermes-3: the conversations handed to SFT carry the roles TRL knows, ids stable on a re-read', async () => {
    const first = await prepare('hermes-3');
    const again = await prepare('hermes-3');
    expect(await conversationsOf(again)).toEqual(await conversationsOf(first));
    // The translator's stand-in echoes every segment, marked, so the assembled turns show which were translated.
    const rows = await sql(`SELECT segment_id AS id, content AS text FROM read_parquet('${await store.fetchToLocal(first.rows)}') WHERE segment_id IS NOT NULL`);
    const translated = path.join(dir, 'hermes-translated.parquet');
    await sql(`COPY (SELECT id, text, 'AR ' || text AS translation FROM (VALUES ${rows.map((r) => `('${r.id}', '${String(r.text).replaceAll("'", "''")}')`).join(', ')}) v(id, text)) TO '${translated}' (FORMAT parquet)`);
    const ref = await store.putFile(translated, store.uri('hermes', 'translated.parquet'), 'dataset', rows.length);
    const assembled = await run(activities.assembleConversations, {
      stage_key: STAGE_KEY, output_prefix: store.uri('hermes', 'conversations'), rows: first.rows,
      translation_lists: [await saveRefList(store, store.uri('hermes', 'list.json'), [ref])],
    });
    expect(assembled).toMatchObject({ conversations: 3, missing_translations: 0 });
    const conversations = await sql(`SELECT id, messages FROM read_parquet('${await store.fetchToLocal(assembled.dataset)}')`);
    expect(conversations.map((c) => c.id)).toEqual(['0', '2', '3']);
    expect(conversations[0]!.messages).toEqual([
      { role: 'system', content: 'You are Hermes, a helpful assistant.' },
      { role: 'user', content: 'AR Name the largest planet.' },
      { role: 'assistant', content: 'AR Jupiter is the largest planet.' },
    ]);
  });

  it('SCP-116K: the problem and its matched solution, never the model solutions beside them', async () => {
    const output = await prepare('scp-116k');
    expect(output).toMatchObject({ row_count: 2, quarantined: {} });
    expect(await conversationsOf(output)).toEqual({
      0: [['user', 'A ball falls for 2 s from rest. How far does it fall?'], ['assistant', 'd = g t^2 / 2 = 19.6 m.']],
      1: [['user', 'What is the molar mass of water?'], ['assistant', '18.02 g/mol.']],
    });
  });

  it('ReAlign-Alpaca: ShareGPT turns in its `items` column, ids from its id column', async () => {
    const output = await prepare('realign-alpaca');
    expect(output).toMatchObject({ row_count: 2, quarantined: {} });
    expect(await conversationsOf(output)).toEqual({
      0: [['user', 'Give three tips for staying healthy.'], ['assistant', '1. Eat well.\n2. Exercise.\n3. Sleep enough.']],
      1: [['user', 'Rewrite in passive voice: The cat ate the fish.'], ['assistant', 'The fish was eaten by the cat.']],
    });
  });

  it('Dahoas pairwise: the prompt and its chosen answer, the rejected one left out', async () => {
    const output = await prepare('dahoas-pairwise');
    const conversations = await conversationsOf(output);
    expect(conversations).toEqual({
      0: [['user', 'How do I boil an egg?'], ['assistant', 'Place the egg in boiling water for about nine minutes.']],
      1: [['user', 'Suggest a name for a cat.'], ['assistant', 'How about Luna?']],
    });
  });

  it('LaMini-instruction: instruction and response over two shards matched by the recipe glob', async () => {
    const output = await prepare('lamini');
    expect(output).toMatchObject({ row_count: 3, segment_count: 6 });
    expect(Object.entries(await conversationsOf(output)).map(([id, turns]) => [id, turns[0]![1]])).toEqual([
      ['0', 'List two primary colours.'], ['1', 'What is the opposite of hot?'], ['2', 'Write a word that rhymes with cat.'],
    ]);
  });

  it('Tulu-3: English subsets only (the aya rows counted as excluded_source), code removed and counted, ids from the id column', async () => {
    expect(setNamed('tulu-3-en').exclude_sources).toContain(TULU_AYA);
    const output = await prepare('tulu-3-en');
    expect(output).toMatchObject({ row_count: 2, quarantined: { excluded_source: 2, code: 1 } });
    expect(await conversationsOf(output)).toEqual({
      oasst1_4711: [['user', 'What is a haiku?'], ['assistant', 'A short Japanese poem of three lines.'], ['user', 'Write one about rain.'], ['assistant', 'Soft rain on the roof.']],
      flan_v2_88: [['system', 'Answer briefly.'], ['user', 'Is water wet?'], ['assistant', 'Yes.']],
    });
    const quarantine = await sql(`SELECT row_id, reason FROM read_parquet('${path.join(dir, 'store', 'segments')}/*/quarantine.parquet') WHERE reason = 'excluded_source' ORDER BY row_id`);
    expect(quarantine).toEqual([{ row_id: 'aya_100k_17', reason: 'excluded_source' }, { row_id: 'aya_100k_18', reason: 'excluded_source' }]);
  });

  it('refuses exclude_sources on a file without a `source` column, naming the column and the knob', async () => {
    await expect(run(activities.prepareSegments, {
      stage_key: STAGE_KEY, output_prefix: store.uri('no-source'),
      ...segmentsRequest({ ...setNamed('hermes-3'), exclude_sources: [TULU_AYA] }, recipe.stages.translate_instructions),
    })).rejects.toThrow(/lacks column `source` \(the subset each row comes from, which exclude_sources reads\)/);
  });

  it('reads only the columns a layout maps, so the other columns are never fetched', async () => {
    const db = await CorpusDb.open(dir);
    try {
      const files = await writeDataset(path.join(dir, 'scp-only'), layouts.scp116k());
      const columns = await loadParquet(db, [{ path: files[0]!, label: 'scp' }], 'rows', [{ name: 'problem', expected: 'p' }], undefined, { optional: ['id', 'matched_solution'] });
      expect(columns.has('o1_solution')).toBe(true);
      expect((await db.rows('DESCRIBE rows')).map((c) => c.column_name)).toEqual(['ord', 'problem', 'matched_solution']);
    } finally {
      db.close();
    }
  });
});
