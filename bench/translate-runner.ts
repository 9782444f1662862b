// Usage: npx tsx bench/translate-runner.ts [--quick]
// Translation runner overhead: the tiny world's teacher (hub mirror from scripts/fixtures.sh, the
// transformers engine on CPU) translates the same 256 held-out rows (--quick: 64), 32 per chunk,
// through runners/translate.py (subprocess, shard digest check, a store write per chunk, output
// published) and through its engine called directly (bench/translate_runner.py direct). Both are
// fresh processes timed from spawn to exit (interpreter start and model load included in both);
// rows/s is rows / that wall time. Prints figures; asserts nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BenchRow, printBenchLine } from './lib/bench-line';
import { describeMachine } from './lib/machine';
import { type Measured, runMeasured } from './lib/peak-rss';
import { pinnedCpuKernels } from '../platform/python-env';

const root = path.join(__dirname, '..');
const BATCH = 32;

function ok(m: Measured, what: string): Measured {
  if (m.code !== 0) throw new Error(`${what} failed (exit ${m.code}):\n${m.stderr.slice(-2000)}`);
  return m;
}

async function main() {
  const rows = process.argv.includes('--quick') ? 64 : 256;
  const sh = (script: string) => execFileSync('bash', [path.join(root, 'scripts', script)], { encoding: 'utf8' }).trim();
  const python = path.join(sh('python-env.sh'), 'bin', 'python');
  const dir = mkdtempSync(path.join(tmpdir(), 'hala-bench-translate-'));
  const env = {
    ...process.env, PYTHONPATH: path.join(root, 'gpu-runners'), HALA_HUB_MIRROR: sh('fixtures.sh'), HALA_WORK_DIR: path.join(dir, 'work'),
    HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false',
    // a tiny model on few shared cores: OpenMP threads spin against each other (gpu-runners/tests/conftest.py)
    OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
    ...pinnedCpuKernels(), // the kernels the local stack runs (gpu-runners/cpu-kernels.env)
  };
  const script = path.join(__dirname, 'translate_runner.py');
  try {
    ok(await runMeasured(python, [script, 'prepare', dir, String(rows), String(BATCH)], { env }), 'prepare');
    const runner = ok(await runMeasured(python, ['-m', 'hala_runners.runners.translate', '--config', path.join(dir, 'config.json')], { env }), 'runner');
    const direct = ok(await runMeasured(python, [script, 'direct', dir], { env }), 'direct');
    const runnerRate = rows / runner.wallSeconds;
    const directRate = rows / direct.wallSeconds;
    const share = runnerRate / directRate;
    console.log(`translate-runner: ${rows} rows, ${BATCH} per chunk, tiny teacher on CPU (transformers)`);
    console.log(`translate-runner: runner ${runnerRate.toFixed(1)} rows/s (${runner.wallSeconds.toFixed(1)} s), ` +
      `direct engine ${directRate.toFixed(1)} rows/s (${direct.wallSeconds.toFixed(1)} s): ${(100 * share).toFixed(0)}%`);
    const table: BenchRow[] = [
      { figure: 'translate runner: rows/s (share of direct engine)', hala: `${runnerRate.toFixed(1)} (${(100 * share).toFixed(0)}%)`,
        peers: { direct_engine: directRate.toFixed(1) }, target: '>= 90% of direct', met: share >= 0.9 },
    ];
    printBenchLine('translate-runner', table, `${rows} held-out rows of the tiny world, batch ${BATCH}, max_new_tokens 48`, describeMachine());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
