// `hala doctor`'s pure parts: recipe -> pools (queues, roles, classes), hub sources, rows, verdicts, exit code.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorPoolResult } from '../../contracts/doctor';
import { Recipe } from '../../contracts/recipe';
import { recipeHubSources, recipePools } from '../../cli/doctor/pools';
import { doctorExitCode, doctorRow, renderDoctor } from '../../cli/doctor/render';
import { loadRecipe } from '../../cli/recipe-file';

const tiny = () => {
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.recipe;
};

describe('recipe -> pools', () => {
  it('tiny.yaml: the four role queues and the cpu queue, no class', () => {
    const pools = recipePools(tiny());
    expect(pools.map((p) => [p.pool, p.queue, p.roles.join('+')])).toEqual([
      ['cpu', 'hala-cpu', 'cpu'],
      ['quantize', 'hala-gpu-quantize', 'quantize'],
      ['infer', 'hala-gpu-infer', 'infer'],
      ['eval', 'hala-gpu-eval', 'eval'],
      ['train', 'hala-gpu-train', 'train'],
    ]);
    expect(pools.every((p) => p.expected === undefined)).toBe(true);
  });

  it('routes naming classes go to the class queues, a student its own class, the rest to role queues', () => {
    const recipe = Recipe.parse({
      ...tiny(),
      resources: {
        classes: {
          'h100x8': { queue: 'pool-h100x8', gpus: 8, gpu_type: 'H100-80GB', gpu_memory_gb: 80 },
          'l4': { queue: 'pool-l4', gpus: 1, gpu_type: 'L4' },
        },
        compress: 'h100x8',
        sft: 'l4',
        students: { 'hala-1-2b': 'h100x8' },
      },
    });
    const byQueue = Object.fromEntries(recipePools(recipe).map((p) => [p.queue, p]));
    expect(byQueue['pool-h100x8']).toMatchObject({ pool: 'h100x8', roles: ['quantize', 'train'], routes: ['compress', 'sft:hala-1-2b'], expected: { gpus: 8, gpu_type: 'H100-80GB', gpu_memory_gb: 80 } });
    expect(byQueue['pool-l4']).toMatchObject({ pool: 'l4', roles: ['train'], routes: ['sft:hala-700m', 'sft:hala-350m'] });
    // The compression went to its class; the merges, unrouted, stay on the quantize role's queue.
    expect(byQueue['hala-gpu-quantize']).toMatchObject({ roles: ['quantize'], routes: ['merge'] });
    expect(Object.keys(byQueue).sort()).toEqual(['hala-cpu', 'hala-gpu-eval', 'hala-gpu-infer', 'hala-gpu-quantize', 'hala-gpu-train', 'pool-h100x8', 'pool-l4']);
    // Two roles on one queue cannot be served by one worker: that row fails with the fix.
    const row = doctorRow(byQueue['pool-h100x8']!, undefined, 0);
    expect(row.verdict).toBe('FAIL');
    expect(row.checks[0]!.seen).toContain('sends quantize and train work to queue pool-h100x8');
  });

  it('hub sources carry their recipe field, pinned revisions split off', async () => {
    const recipe = Recipe.parse({ ...tiny(), inputs: { ...tiny().inputs, teacher: 'hf://org/teacher@0123abc' } });
    const sources = await recipeHubSources(recipe);
    expect(sources[0]).toEqual({ field: 'inputs.teacher', id: 'hf://org/teacher', revision: '0123abc' });
    expect(sources).toContainEqual({ field: 'stages.sft.students[0].base', id: 'hf://hala-tiny/lfm2-1.2b' });
    expect(sources).toHaveLength(16);
  });
});

describe('rows, verdicts, exit code', () => {
  const pools = recipePools(tiny());
  const answered = (queue: string, ok: boolean): DoctorPoolResult => ({
    pool: 'x', queue, role: 'x',
    outcome: { kind: 'answered', output: { worker: '1@h', worker_role: 'x', seconds: 1, checks: [{ name: 'gpus', ok: true, seen: 'CPU pool (no GPU)' }, { name: 'store', ok, seen: 'store file:///s: write failed', ...(ok ? {} : { fix: 'give write access to file:///s' }) }] } },
  });

  it('every pool answering ok: exit 0, and the CPU pools said plainly', () => {
    const rows = pools.map((p) => doctorRow(p, answered(p.queue, true), 1));
    expect(doctorExitCode(rows)).toBe(0);
    const text = renderDoctor('recipes/tiny.yaml', rows, 3);
    expect(text).toMatch(/^infer +hala-gpu-infer +infer +ok +1@h/m);
    expect(text).toContain('Every pool is a CPU pool (no GPU)');
  });

  it('a failing check, an unpolled queue and a probe nobody took each fail their pool with a fix: exit 1', () => {
    const [cpu, quantize, infer, evalPool, train] = pools;
    const rows = [
      doctorRow(cpu!, answered('hala-cpu', true), 1),
      doctorRow(quantize!, answered('hala-gpu-quantize', false), 1),
      doctorRow(infer!, undefined, 0),
      doctorRow(evalPool!, { pool: 'eval', queue: 'hala-gpu-eval', role: 'eval', outcome: { kind: 'no_worker', message: 'no worker took the probe within 20 s: nobody serves queue hala-gpu-eval' } }, 1),
      doctorRow(train!, { pool: 'train', queue: 'hala-gpu-train', role: 'train', outcome: { kind: 'failed', message: 'the probe failed on the worker: BadInput: x' } }, 1),
    ];
    expect(rows.map((r) => r.verdict)).toEqual(['ok', 'FAIL', 'FAIL', 'FAIL', 'FAIL']);
    expect(doctorExitCode(rows)).toBe(1);
    const text = renderDoctor('recipes/tiny.yaml', rows, 3);
    expect(text).toContain('fix: give write access to file:///s');
    expect(text).toContain('nobody polls queue hala-gpu-infer (DescribeTaskQueue lists no poller)');
    expect(text).toContain('python -m hala_runners.worker --queue-role infer --task-queue hala-gpu-infer');
    expect(text).toContain('still listed 1 poller(s)');
  });
});
