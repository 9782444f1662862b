// Usage: npx tsx bench/instruction-readers.ts [--sizes 400000,1200000]
// Reading an instruction set into segments (prepareSegmentShards, the sharegpt reader of Hermes-3)
// at each size of generated five-turn ShareGPT conversations (system, two human/gpt exchanges,
// `weight` in every turn), in two shards read through one glob. Runs the reader in its own Node
// process and prints conversations/s and the peak RSS of that process tree; asserts nothing.
// Internal: `npx tsx bench/instruction-readers.ts --child GLOB WORK_DIR` is the measured process.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { prepareSegmentShards } from '../activities/corpus';
import { mib, runMeasured } from './lib/peak-rss';

const SIZES = [400_000, 1_200_000];

/** Two shards of `rows` conversations in all, each turn ~200 characters. */
async function writeConversations(dir: string, rows: number): Promise<void> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const turn = (from: string, text: string, weight: string) => `{'from': '${from}', 'value': ${text}, 'weight': ${weight}}`;
  for (const shard of [0, 1]) {
    await db.run(
      `COPY (SELECT [
         ${turn('system', `'You are assistant ' || i || '. ' || repeat('Be kind and brief. ', 10)`, 'NULL::DOUBLE')},
         ${turn('human', `'Question ' || i || ': ' || repeat('why is the sky blue? ', 10)`, '0.0')},
         ${turn('gpt', `'Answer ' || i || ': ' || repeat('Rayleigh scattering of sunlight. ', 6)`, '1.0')},
         ${turn('human', `'Follow-up ' || i || ': ' || repeat('and at sunset? ', 12)`, '0.0')},
         ${turn('gpt', `'Then ' || i || ': ' || repeat('light crosses more air. ', 8)`, '1.0')}] AS conversations
       FROM range(${Math.floor(rows / 2)}) t(i)) TO '${path.join(dir, `${String(shard).padStart(4, '0')}.parquet`)}' (FORMAT parquet)`,
    );
  }
  db.closeSync();
}

async function child(glob: string, workDir: string): Promise<void> {
  const result = await prepareSegmentShards({
    source: { path: glob, label: 'bench' }, workDir, format: 'sharegpt',
    translateResponses: true, dropCode: true, maxSegmentChars: 4000, shardRows: 4096,
  });
  console.log(JSON.stringify({ rows: result.rowCount, segments: result.segmentCount }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]!, args[2]!);
  const sizes = args[0] === '--sizes' ? args[1]!.split(',').map(Number) : SIZES;
  for (const rows of sizes) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-readers-'));
    try {
      await writeConversations(dir, rows);
      mkdirSync(path.join(dir, 'work'));
      const run = await runMeasured('npx', ['tsx', __filename, '--child', path.join(dir, '*.parquet'), path.join(dir, 'work')]);
      if (run.code !== 0) throw new Error(`reader failed at ${rows} rows:\n${run.stderr}`);
      const got = JSON.parse(run.stdout.trim().split('\n').pop()!) as { rows: number; segments: number };
      console.log(`${rows} conversations: ${got.segments} segments, ${Math.round(rows / run.wallSeconds)} conversations/s, peak RSS ${mib(run.peakRssBytes)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

void main();
