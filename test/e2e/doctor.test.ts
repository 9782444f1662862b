// `hala doctor recipes/tiny.yaml` against the local stack on the Temporal dev server: the real CPU
// worker runs the doctor workflow, the four real Python workers answer the probe. Started once for
// the file (Python workers import torch: ~2 cores here). Then one pool's worker is stopped, and the
// store is made unwritable, each named in the rows. Timings are printed, never asserted beyond a
// generous bound.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../workers/local-stack';
import { hubMirror, repoRoot } from '../../platform/python-env';
import { freePort } from '../support/ports';

const minutes = 60_000;
const TIMEOUT_S = 20; // how long a probe waits for a worker before its queue counts as unserved
const stateDir = mkdtempSync(path.join(tmpdir(), 'hala-doctor-e2e-'));
let stack: LocalStack;

interface Run { code: number; stdout: string; stderr: string; seconds: number }
/** `hala doctor <args>` in a process of its own, as a user runs it, against the stack. */
async function doctor(...args: string[]): Promise<Run> {
  // The tiny world's mirror, as `hala up` users have it: the plan reads the models' sizes from it.
  const env = { ...process.env, TEMPORAL_ADDRESS: stack.address, TEMPORAL_NAMESPACE: stack.namespace, HALA_HUB_MIRROR: hubMirror() };
  const started = Date.now();
  const done = (code: number, stdout = '', stderr = '') => ({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'cli/hala.ts'), 'doctor', ...args], { env, cwd: repoRoot, timeout: 5 * minutes });
    return done(0, stdout, stderr);
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return done(typeof e.code === 'number' ? e.code : -1, e.stdout, e.stderr);
  }
}

const recipe = path.join(repoRoot, 'recipes/tiny.yaml');
const storeRoot = `file://${path.join(stateDir, 'store')}`;

beforeAll(async () => {
  stack = await startLocalStack({ stateDir, ephemeral: true, port: await freePort(), uiPort: await freePort(), storeRoot, workerEnv: { HALA_WORK_DIR: path.join(stateDir, 'work') } });
}, 3 * minutes);

afterAll(async () => {
  await stack?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 2 * minutes);

describe('hala doctor on the local stack', () => {
  it('proves every pool of tiny.yaml: one row per pool, CPU pools said plainly, exit 0', async () => {
    const run = await doctor(recipe, '--store', storeRoot, '--timeout-s', String(TIMEOUT_S));
    console.log(`${run.stdout}${run.stderr}\ndoctor e2e: all pools took ${run.seconds.toFixed(1)} s`);
    expect(run.code).toBe(0);
    for (const [pool, queue] of [['cpu', 'hala-cpu'], ['quantize', 'hala-gpu-quantize'], ['infer', 'hala-gpu-infer'], ['train', 'hala-gpu-train'], ['eval', 'hala-gpu-eval']]) {
      expect(run.stdout).toMatch(new RegExp(`^${pool} +${queue} +${pool} +ok `, 'm'));
    }
    expect(run.stdout).toContain('Every pool is a CPU pool (no GPU)');
    expect(run.stdout).toMatch(/ok +all_reduce +gloo all-reduce over 2 CPU processes: every rank got 3/);
    expect(run.stdout).toMatch(/ok +engine +transformers engine loaded hf:\/\/hala-tiny\/lfm2-1.2b .* the same engine translated 2 batches/);
    expect(run.stdout).toMatch(/ok +fp8 +FP8 checkpoint of a miniature hf:\/\/hala-tiny\/command-a-translate/);
  }, 6 * minutes);

  it('says plainly that a store nobody can write is unwritable, naming it, exit 1', async () => {
    writeFileSync(path.join(stateDir, 'a-file'), 'not a directory'); // root ignores chmod; nobody writes below a file
    const unwritable = `file://${path.join(stateDir, 'a-file', 'store')}`;
    const run = await doctor(recipe, '--store', unwritable, '--timeout-s', String(TIMEOUT_S), '--json');
    console.log(`doctor e2e: unwritable store took ${run.seconds.toFixed(1)} s`);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { pools: { pool: string; verdict: string; checks: { name: string; ok: boolean; seen: string; fix?: string }[] }[] };
    expect(report.pools).toHaveLength(5);
    for (const pool of report.pools) {
      const store = pool.checks.find((c) => c.name === 'store')!;
      expect(pool.verdict, pool.pool).toBe('FAIL');
      expect(store.ok).toBe(false);
      expect(store.seen).toContain(unwritable);
      expect(store.fix).toContain(unwritable);
    }
  }, 6 * minutes);

  it("names a pool whose worker is stopped, within the probe's bound, exit 1", async () => {
    await stack.workers.eval.stop();
    const run = await doctor(recipe, '--store', storeRoot, '--timeout-s', String(TIMEOUT_S));
    console.log(`${run.stdout}${run.stderr}\ndoctor e2e: with the eval worker stopped it took ${run.seconds.toFixed(1)} s (--timeout-s ${TIMEOUT_S})`);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^eval +hala-gpu-eval +eval +FAIL /m);
    expect(run.stdout).toMatch(/nobody (serves|polls) queue hala-gpu-eval/);
    expect(run.stdout).toContain('--queue-role eval --task-queue hala-gpu-eval');
    for (const pool of ['cpu', 'quantize', 'infer', 'train']) expect(run.stdout).toMatch(new RegExp(`^${pool} +\\S+ +${pool} +ok `, 'm'));
    // Bounded: the probes that answer, plus the wait for a worker that never comes, plus slack.
    expect(run.seconds).toBeLessThan(TIMEOUT_S + 240);
  }, 6 * minutes);
});
