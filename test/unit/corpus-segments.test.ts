import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadCorpusInput, assembleTranslatedConversations, prepareSegmentShards } from '../../activities/corpus';
import { sql } from '../support/duckdb-sql';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'segments-test-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const read = (file: string, order = '') => sql(`SELECT * FROM read_parquet('${file}') ${order}`);

async function writeOpenOrca(file: string): Promise<void> {
  await sql(`COPY (SELECT id, system_prompt, question, response FROM (VALUES
    (0, 'niv.1', 'You are a helpful assistant.', 'What is the capital of France?', 'The capital of France is Paris.'),
    (1, 'flan.2', '', 'Name three primary colours.', 'Red, yellow and blue.'),
    (2, 'cot.3', 'You are a coding assistant.', 'Print hello in Python.', '\`\`\`python\nprint("hello")\n\`\`\`'),
    (3, 't0.4', NULL, 'Summarise this: ' || repeat('word ', 100), 'A short summary.'),
    (4, 'niv.1', NULL, 'Duplicate id question?', 'Duplicate id answer.'),
    (5, 'niv.6', NULL, '   ', 'An answer to nothing.')
  ) v(i, id, system_prompt, question, response) ORDER BY i) TO '${file}' (FORMAT parquet)`);
}

const options = { format: 'open_orca' as const, translateResponses: true, dropCode: true, maxSegmentChars: 200, shardRows: 3 };

describe('prepareSegmentShards (open_orca)', () => {
  it('keeps system prompts untranslated, ids `<row_id>#<turn>`, shards of at most shard_rows', async () => {
    const file = path.join(dir, 'orca.parquet');
    await writeOpenOrca(file);
    const result = await prepareSegmentShards({ source: { path: file, label: 'orca' }, workDir: dir, ...options });

    expect(result.rowCount).toBe(2);
    expect(result.quarantined).toEqual({ code: 1, duplicate_id: 1, empty: 1, segment_too_long: 1 });
    expect(await read(result.rowsPath)).toEqual([
      { row_id: 'niv.1', turn: 0, role: 'system', content: 'You are a helpful assistant.', segment_id: null },
      { row_id: 'niv.1', turn: 1, role: 'user', content: 'What is the capital of France?', segment_id: 'niv.1#1' },
      { row_id: 'niv.1', turn: 2, role: 'assistant', content: 'The capital of France is Paris.', segment_id: 'niv.1#2' },
      { row_id: 'flan.2', turn: 0, role: 'user', content: 'Name three primary colours.', segment_id: 'flan.2#0' },
      { row_id: 'flan.2', turn: 1, role: 'assistant', content: 'Red, yellow and blue.', segment_id: 'flan.2#1' },
    ]);
    expect(result.segmentCount).toBe(4);
    expect(result.shards.map((s) => [path.basename(s.path), s.rows])).toEqual([['shard-00000.parquet', 3], ['shard-00001.parquet', 1]]);
    expect((await read(result.shards[1]!.path))).toEqual([{ id: 'flan.2#1', text: 'Red, yellow and blue.' }]);
    expect(await read(result.quarantinePath!)).toEqual([
      { source_row: '2', row_id: 'cot.3', reason: 'code' },
      { source_row: '3', row_id: 't0.4', reason: 'segment_too_long' },
      { source_row: '4', row_id: 'niv.1', reason: 'duplicate_id' },
      { source_row: '5', row_id: 'niv.6', reason: 'empty' },
    ]);
  });

  it('leaves responses untranslated, keeps code when asked, honours max_rows', async () => {
    const file = path.join(dir, 'orca.parquet');
    await writeOpenOrca(file);
    const result = await prepareSegmentShards({
      source: { path: file, label: 'orca' }, workDir: dir, ...options, translateResponses: false, dropCode: false, maxRows: 3,
    });
    expect(result.rowCount).toBe(3);
    expect(result.quarantined).toEqual({});
    expect(result.quarantinePath).toBeUndefined();
    const segments = await sql(`SELECT id FROM read_parquet('${path.join(dir, 'shards')}/*.parquet') ORDER BY filename, file_row_number`);
    expect(segments.map((s) => s.id)).toEqual(['niv.1#1', 'flan.2#0', 'cot.3#1']);
  });

  it('names the missing column and the file', async () => {
    const file = path.join(dir, 'bad.parquet');
    await sql(`COPY (SELECT 'x' AS id, 'q' AS question) TO '${file}' (FORMAT parquet)`);
    const run = prepareSegmentShards({ source: { path: file, label: 'hf://datasets/Open-Orca/OpenOrca/x.parquet' }, workDir: dir, ...options });
    await expect(run).rejects.toThrow(BadCorpusInput);
    await expect(run).rejects.toThrow(/OpenOrca\/x\.parquet lacks columns `system_prompt`.*`response`/);
  });
});

describe('prepareSegmentShards (sharegpt)', () => {
  it('maps human/gpt/system to roles, numbers turns by position and quarantines unknown speakers', async () => {
    const file = path.join(dir, 'hermes.parquet');
    await sql(`COPY (SELECT conversations FROM (VALUES
      (0, [{'from': 'system', 'value': 'You are Hermes.'}, {'from': 'human', 'value': 'Explain photosynthesis briefly.'}, {'from': 'gpt', 'value': 'Plants turn light into sugar.'}]),
      (1, [{'from': 'human', 'value': 'Call the weather tool.'}, {'from': 'tool', 'value': '{"temp": 21}'}]),
      (2, [])
    ) v(i, conversations) ORDER BY i) TO '${file}' (FORMAT parquet)`);
    const result = await prepareSegmentShards({ source: { path: file, label: 'hermes' }, workDir: dir, ...options, format: 'sharegpt' });
    expect(result.quarantined).toEqual({ unknown_role: 1, empty: 1 });
    expect(await read(result.rowsPath)).toEqual([
      { row_id: '0', turn: 0, role: 'system', content: 'You are Hermes.', segment_id: null },
      { row_id: '0', turn: 1, role: 'user', content: 'Explain photosynthesis briefly.', segment_id: '0#1' },
      { row_id: '0', turn: 2, role: 'assistant', content: 'Plants turn light into sugar.', segment_id: '0#2' },
    ]);
  });
});

describe('prepareSegmentShards (messages, columns)', () => {
  it('reads Tulu-style `messages` of {role, content} with the file ids', async () => {
    const file = path.join(dir, 'tulu.parquet');
    await sql(`COPY (SELECT id, messages FROM (VALUES
      (0, 'tulu-7', [{'role': 'user', 'content': 'Write a haiku about rain.'}, {'role': 'assistant', 'content': 'Soft rain on the roof.'}])
    ) v(i, id, messages) ORDER BY i) TO '${file}' (FORMAT parquet)`);
    const result = await prepareSegmentShards({ source: { path: file, label: 'tulu' }, workDir: dir, ...options, format: 'messages' });
    expect((await read(result.shards[0]!.path)).map((s) => s.id)).toEqual(['tulu-7#0', 'tulu-7#1']);
  });

  it('builds one exchange from named columns, appending Alpaca input after a blank line', async () => {
    const file = path.join(dir, 'alpaca.parquet');
    await sql(`COPY (SELECT instruction, input, output FROM (VALUES
      (0, 'Translate to French.', 'Good morning', 'Bonjour'),
      (1, 'Name a planet.', '', 'Mars')
    ) v(i, instruction, input, output) ORDER BY i) TO '${file}' (FORMAT parquet)`);
    const columns = { user: 'instruction', input: 'input', assistant: 'output' };
    const result = await prepareSegmentShards({ source: { path: file, label: 'alpaca' }, workDir: dir, ...options, format: 'columns', columns });
    expect(await read(result.rowsPath)).toEqual([
      { row_id: '0', turn: 0, role: 'user', content: 'Translate to French.\n\nGood morning', segment_id: '0#0' },
      { row_id: '0', turn: 1, role: 'assistant', content: 'Bonjour', segment_id: '0#1' },
      { row_id: '1', turn: 0, role: 'user', content: 'Name a planet.', segment_id: '1#0' },
      { row_id: '1', turn: 1, role: 'assistant', content: 'Mars', segment_id: '1#1' },
    ]);
    await expect(prepareSegmentShards({ source: { path: file, label: 'alpaca' }, workDir: dir, ...options, format: 'columns' }))
      .rejects.toThrow(/needs a column mapping/);
    await expect(prepareSegmentShards({ source: { path: file, label: 'alpaca' }, workDir: dir, ...options, format: 'columns', columns: { user: 'prompt', assistant: 'output' } }))
      .rejects.toThrow(/alpaca lacks column `prompt`/);
  });
});

describe('assembleTranslatedConversations', () => {
  it('puts translations back in turn order and drops, counting, conversations with a missing one', async () => {
    const file = path.join(dir, 'orca.parquet');
    await writeOpenOrca(file);
    const prepared = await prepareSegmentShards({ source: { path: file, label: 'orca' }, workDir: dir, ...options });
    // The translator answered every segment but one of flan.2's; a retried shard appears twice.
    const translated = path.join(dir, 'translated.parquet');
    await sql(`COPY (SELECT * FROM (VALUES
      ('niv.1#1', 'What is the capital of France?', 'ما هي عاصمة فرنسا؟'),
      ('niv.1#2', 'The capital of France is Paris.', 'عاصمة فرنسا هي باريس.'),
      ('niv.1#2', 'The capital of France is Paris.', 'عاصمة فرنسا هي باريس.'),
      ('flan.2#0', 'Name three primary colours.', 'اذكر ثلاثة ألوان أساسية.'),
      ('flan.2#1', 'Red, yellow and blue.', '  ')
    ) v(id, text, translation)) TO '${translated}' (FORMAT parquet)`);

    const result = await assembleTranslatedConversations({
      rows: { path: prepared.rowsPath, label: 'rows' },
      translations: [{ path: translated, label: 'shard-0' }],
      workDir: dir,
    });
    expect(result.conversations).toBe(1);
    expect(result.missingTranslations).toBe(1);
    expect(await read(result.datasetPath)).toEqual([
      {
        id: 'niv.1',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'ما هي عاصمة فرنسا؟' },
          { role: 'assistant', content: 'عاصمة فرنسا هي باريس.' },
        ],
      },
    ]);
  });

  it('counts every translatable conversation as missing when no shard came back', async () => {
    const file = path.join(dir, 'orca.parquet');
    await writeOpenOrca(file);
    const prepared = await prepareSegmentShards({ source: { path: file, label: 'orca' }, workDir: dir, ...options });
    const result = await assembleTranslatedConversations({ rows: { path: prepared.rowsPath, label: 'rows' }, translations: [], workDir: dir });
    expect(result).toMatchObject({ conversations: 0, missingTranslations: 2 });
  });
});
