// Usage: npm run bench [-- --quick]   (or: npx tsx bench/run-all.ts [--quick])
// Runs every benchmark below as its own process, one after the other (peers inside a benchmark share
// its run; benchmarks never share the CPU with each other), gathers the JSON line each prints last
// and prints one table, with the machine on top; writes it as markdown to bench/latest.md for the
// README. --quick passes through (smallest size only). Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describeMachine } from './lib/machine';

/** Every benchmark, in the order the table shows them: `bench/<name>.ts`. */
const benchmarks = ['orchestration', 'fan-out', 'corpus', 'slerp', 'resume', 'translate-runner'];

/** The last line of a benchmark's stdout (bench/lib/bench-line.ts), checked before it is trusted. */
const BenchResult = z.object({
  bench: z.string(),
  rows: z.array(z.object({ figure: z.string(), hala: z.string(), peers: z.record(z.string(), z.string()), target: z.string(), met: z.boolean().nullable() })),
  sizes: z.string(),
  machine: z.string(),
});
type BenchResult = z.infer<typeof BenchResult>;

const tsx = path.join(__dirname, '../node_modules/.bin/tsx');

function runOne(name: string, args: string[]): BenchResult | string {
  const file = path.join(__dirname, `${name}.ts`);
  if (!existsSync(file)) return `skipped: bench/${name}.ts does not exist yet`;
  console.log(`\n== ${name} ${args.join(' ')}`);
  // Its figures stream through as it runs; stdout is also kept for the last line.
  const run = spawnSync(tsx, [file, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
  process.stdout.write(run.stdout ?? '');
  if (run.status !== 0) return `failed: bench/${name}.ts exited ${run.status ?? run.signal}`;
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return BenchResult.parse(JSON.parse(last));
  } catch {
    return `failed: bench/${name}.ts printed no result line last`;
  }
}

const cell = (s: string) => s.replace(/\|/g, '\\|');
const metMark = (met: boolean | null) => (met === null ? '' : met ? 'yes' : 'NO');

function markdown(results: Map<string, BenchResult | string>, machine: string, quick: boolean): string {
  const lines = [
    `Machine: ${machine}${quick ? ' (--quick: smallest sizes only)' : ''}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    '| benchmark | figure | Hala Flow | peers | target | met |',
    '|---|---|---|---|---|---|',
  ];
  const notes: string[] = [];
  for (const [name, r] of results) {
    if (typeof r === 'string') {
      lines.push(`| ${name} | ${cell(r)} | | | | |`);
      continue;
    }
    for (const row of r.rows) {
      const peers = Object.entries(row.peers).map(([peer, v]) => `${peer}: ${v}`).join('; ');
      lines.push(`| ${name} | ${cell(row.figure)} | ${cell(row.hala)} | ${cell(peers)} | ${cell(row.target)} | ${metMark(row.met)} |`);
    }
    notes.push(`- ${name}: ${r.sizes}${r.machine !== machine ? ` (on ${r.machine})` : ''}`);
  }
  return [...lines, '', 'Sizes:', ...notes, ''].join('\n');
}

function main() {
  const args = process.argv.slice(2).filter((a) => a === '--quick');
  const quick = args.includes('--quick');
  const machine = describeMachine();
  const results = new Map<string, BenchResult | string>();
  for (const name of benchmarks) {
    const r = runOne(name, args);
    if (typeof r === 'string') console.log(`${name}: ${r}`);
    results.set(name, r);
  }
  const table = markdown(results, machine, quick);
  writeFileSync(path.join(__dirname, 'latest.md'), table);
  console.log(`\n${table}\n(written to bench/latest.md)`);
}

main();
