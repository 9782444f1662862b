// The translation fan-out: bounded window, continue-as-new, every shard exactly once.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../cli/recipe-file';
import type { Recipe } from '../../contracts/recipe';
import type { translateCorpus } from '../../workflows/translate-corpus';
import { recordingActivities } from '../support/fake-activities';
import { createLocalEnv, workflowBundle } from '../support/temporal-env';

describe('translateCorpus', () => {
  let env: TestWorkflowEnvironment;
  let recipe: Recipe;
  // One shard of the second test is preempted once: the fold must count its retry.
  const fakes = recordingActivities({ delayMs: 100, flaky: (name, input) => name === 'translate_shard' && input.output_prefix === 'file:///flaky/shard-00001' });
  const workers: Worker[] = [];
  let running: Promise<void>[] = [];

  beforeAll(async () => {
    env = await createLocalEnv();
    const loaded = loadRecipe(`${__dirname}/../../recipes/tiny.yaml`);
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    recipe = loaded.recipe;
    workers.push(await Worker.create({ connection: env.nativeConnection, taskQueue: recipe.queues.cpu, workflowBundle: await workflowBundle() }));
    workers.push(await Worker.create({ connection: env.nativeConnection, taskQueue: recipe.queues.infer, activities: fakes.gpu }));
    running = workers.map((w) => w.run());
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env?.teardown();
  });

  it('keeps at most `window` shards in flight, continues as new, translates each shard once', async () => {
    const shards = Array.from({ length: 7 }, (_, i) => ({ uri: `file:///s/${i}.parquet`, sha256: 'a'.repeat(64), kind: 'dataset' as const, bytes: 1 }));
    const handle = await env.client.workflow.start<typeof translateCorpus>('translateCorpus', {
      taskQueue: recipe.queues.cpu,
      workflowId: 'tc-window',
      args: [{
        recipe, stage_key: 'b'.repeat(64), output_prefix: 'file:///out', model: 'hf://x/y', shards,
        generation: recipe.stages.translate_instructions.generation, prompt_template: 'T {text}', window: 2, shards_per_run: 3,
      }],
    });
    const result = await handle.result();
    expect(result.shards).toHaveLength(7);
    expect(result.rows).toBe(70);
    // Runs are folded across continue-as-new into one row; shard outputs carry none forward.
    expect(result.activities).toEqual([expect.objectContaining({ activity: 'translate_shard', count: 7, attempts: 7, retries: 0 })]);
    expect(result.activities[0]!.gpu_seconds).toBeGreaterThan(0);
    expect(result.shards.filter((s) => s.run !== undefined)).toEqual([]);

    const calls = fakes.calls.filter((c) => c.name === 'translate_shard');
    const prefixes = calls.map((c) => String(c.input.output_prefix)).sort();
    expect(prefixes).toEqual(shards.map((_, i) => `file:///out/shard-${String(i).padStart(5, '0')}`));
    const maxInFlight = Math.max(...calls.map((c) => calls.filter((d) => d.start <= c.start && c.start < (d.end ?? Infinity)).length));
    expect(maxInFlight).toBeLessThanOrEqual(2);

    const runs = await env.client.workflow.getHandle('tc-window').describe();
    expect(runs.runId).not.toBe(handle.firstExecutionRunId); // 7 shards at 3 per run: continued as new twice
  });

  it('counts the attempts of a shard that was retried, across continue-as-new', async () => {
    const shards = Array.from({ length: 4 }, (_, i) => ({ uri: `file:///f/${i}.parquet`, sha256: 'a'.repeat(64), kind: 'dataset' as const, bytes: 1 }));
    const result = await env.client.workflow.execute<typeof translateCorpus>('translateCorpus', {
      taskQueue: recipe.queues.cpu,
      workflowId: 'tc-flaky',
      args: [{
        recipe, stage_key: 'b'.repeat(64), output_prefix: 'file:///flaky', model: 'hf://x/y', shards,
        generation: recipe.stages.translate_instructions.generation, prompt_template: 'T {text}', window: 2, shards_per_run: 2,
      }],
    });
    expect(result.activities).toEqual([expect.objectContaining({ activity: 'translate_shard', count: 4, attempts: 5, retries: 1 })]);
  }, 60_000);
});
