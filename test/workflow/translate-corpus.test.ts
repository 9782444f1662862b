// The translation fan-out: bounded window, continue-as-new, every shard exactly once.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../cli/recipe-file';
import type { ArtifactRef } from '../../contracts/artifact';
import type { Recipe } from '../../contracts/recipe';
import type { StageRuntime } from '../../workflows/stages/declaration';
import type { TranslateCorpusInput, translateCorpus } from '../../workflows/translate-corpus';
import { recordingActivities } from '../support/fake-activities';
import { createRefListActivities, expandRefLists, saveRefList } from '../../activities/ref-lists';
import { FileStore } from '../../activities/store';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalEnv, workflowBundle } from '../support/temporal-env';
import { CODE_VERSION } from '../../contracts/version';

describe('translateCorpus', () => {
  let env: TestWorkflowEnvironment;
  let recipe: Recipe;
  const store = new FileStore(`file://${mkdtempSync(path.join(tmpdir(), 'hala-tc-'))}`);
  // One shard of the last test is preempted once: the fold must count its retry.
  // Shard 1 of the poison fan-outs holds one row its engine raises on alone.
  const fakes = recordingActivities({
    store, delayMs: 100,
    flaky: (name, input) => name === 'translate_shard' && input.output_prefix === `${store.rootUri}/flaky/shard-00001`,
    poison: (input) => (/\/poison-[^/]+\/shard-00001$/.test(String(input.output_prefix)) ? 1 : 0),
  });
  const workers: Worker[] = [];
  let running: Promise<void>[] = [];

  beforeAll(async () => {
    env = await createLocalEnv();
    const loaded = loadRecipe(`${__dirname}/../../recipes/tiny.yaml`);
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    recipe = loaded.recipe;
    workers.push(await Worker.create({ connection: env.nativeConnection, taskQueue: recipe.queues.cpu, workflowBundle: await workflowBundle(), activities: createRefListActivities({ store }) }));
    workers.push(await Worker.create({ connection: env.nativeConnection, taskQueue: recipe.queues.infer, activities: fakes.gpu }));
    running = workers.map((w) => w.run());
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env?.teardown();
  });

  /** The fan-out's input for `shards` saved as a list, `shards_per_run` shards per run, two in flight. */
  async function fanOut(name: string, shards: ArtifactRef[], output_prefix: string, shards_per_run: number): Promise<TranslateCorpusInput> {
    const runtime: StageRuntime = {
      campaign_id: 'tc', store_root: store.rootUri, code_version: CODE_VERSION, forced: false,
      queues: recipe.queues, timeouts: recipe.timeouts, retries: recipe.retries, fan_out: { window: 2, shards_per_run }, priority: {},
    };
    const { prompt_template: _prompt, ...generation } = recipe.generation.translator;
    return {
      runtime, stage_key: 'b'.repeat(64), output_prefix, model: 'hf://x/y',
      shard_list: await saveRefList(store, `${store.rootUri}/${name}.json`, shards), shard_count: shards.length,
      generation, prompt_template: 'T {text}',
    };
  }

  it('keeps at most `window` shards in flight, continues as new, translates each shard once', async () => {
    const shards = Array.from({ length: 7 }, (_, i) => ({ uri: `file:///s/${i}.parquet`, sha256: 'a'.repeat(64), kind: 'dataset' as const, bytes: 1 }));
    const handle = await env.client.workflow.start<typeof translateCorpus>('translateCorpus', {
      taskQueue: recipe.queues.cpu,
      workflowId: 'tc-window',
      args: [await fanOut('window', shards, `${store.rootUri}/window`, 3)],
    });
    const result = await handle.result();
    expect(result.rows).toBe(70);
    // Runs are folded across continue-as-new into one row; shard outputs carry none forward.
    expect(result.activities).toEqual([expect.objectContaining({ activity: 'translate_shard', count: 7, attempts: 7, retries: 0 })]);
    expect(result.activities[0]!.gpu_seconds).toBeGreaterThan(0);

    const calls = fakes.calls.filter((c) => c.name === 'translate_shard');
    const prefixes = calls.map((c) => String(c.input.output_prefix)).sort();
    expect(prefixes).toEqual(shards.map((_, i) => `${store.rootUri}/window/shard-${String(i).padStart(5, '0')}`));
    const maxInFlight = Math.max(...calls.map((c) => calls.filter((d) => d.start <= c.start && c.start < (d.end ?? Infinity)).length));
    expect(maxInFlight).toBeLessThanOrEqual(2);

    const runs = await env.client.workflow.getHandle('tc-window').describe();
    expect(runs.runId).not.toBe(handle.firstExecutionRunId); // 7 shards at 3 per run: continued as new twice
  });

  it('reads its shards a page per run from a list in the store and hands back lists, not thousands of refs', async () => {
    const shards = Array.from({ length: 7 }, (_, i) => ({ uri: `file:///s/${i}.parquet`, sha256: 'c'.repeat(64), kind: 'dataset' as const, bytes: 1 }));
    const handle = await env.client.workflow.start<typeof translateCorpus>('translateCorpus', {
      taskQueue: recipe.queues.cpu,
      workflowId: 'tc-lists',
      args: [await fanOut('lists', shards, `${store.rootUri}/out`, 3)],
    });
    const result = await handle.result();
    expect(result.translation_lists).toHaveLength(3); // 7 shards at 3 per run
    expect(result.rows).toBe(70);
    const translated = await expandRefLists(store, result.translation_lists);
    expect(translated.map((r) => r.uri)).toEqual(shards.map((_, i) => `${store.rootUri}/out/shard-${String(i).padStart(5, '0')}/translations.parquet`));
    const inputs = fakes.calls.filter((c) => c.name === 'translate_shard' && String(c.input.output_prefix).startsWith(`${store.rootUri}/out/`));
    expect(inputs.map((c) => (c.input.shard as { uri: string }).uri).sort()).toEqual(shards.map((s) => s.uri).sort());

    // What each continue-as-new carried: a few KB whatever the shard count.
    const history = await env.client.workflow.getHandle('tc-lists', handle.firstExecutionRunId).fetchHistory();
    const carried = history.events?.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads?.[0]?.data?.length ?? 0;
    console.log(`translate-corpus: continue-as-new carried ${carried} bytes for 7 shards in list mode`);
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThan(8 * 1024);
  });

  it('finishes at once with an empty list when every row of a set was quarantined (no shards)', async () => {
    const result = await env.client.workflow.execute<typeof translateCorpus>('translateCorpus', {
      taskQueue: recipe.queues.cpu,
      workflowId: 'tc-empty',
      args: [await fanOut('none', [], `${store.rootUri}/empty`, 3)],
    });
    expect(result.rows).toBe(0);
    expect(await expandRefLists(store, result.translation_lists)).toEqual([]);
  });

  it('counts the attempts of a shard that was retried, across continue-as-new', async () => {
    const shards = Array.from({ length: 4 }, (_, i) => ({ uri: `file:///f/${i}.parquet`, sha256: 'a'.repeat(64), kind: 'dataset' as const, bytes: 1 }));
    const result = await env.client.workflow.execute<typeof translateCorpus>('translateCorpus', {
      taskQueue: recipe.queues.cpu,
      workflowId: 'tc-flaky',
      args: [await fanOut('flaky', shards, `${store.rootUri}/flaky`, 2)],
    });
    expect(result.activities).toEqual([expect.objectContaining({ activity: 'translate_shard', count: 4, attempts: 5, retries: 1 })]);
  }, 60_000);

  describe('rows that fail alone', () => {
    const shards = Array.from({ length: 3 }, (_, i) => ({ uri: `file:///p/${i}.parquet`, sha256: 'd'.repeat(64), kind: 'dataset' as const, bytes: 1 }));
    const poisoned = async (name: string, max_error_rate: number) => {
      const input = await fanOut(name, shards, `${store.rootUri}/${name}`, 2); // 3 shards at 2 per run: continues as new once
      return { ...input, generation: { ...input.generation, max_error_rate }, error_rate_field: 'generation.translator.max_error_rate' };
    };

    it('completes under max_error_rate, counting the quarantined row across continue-as-new', async () => {
      const result = await env.client.workflow.execute<typeof translateCorpus>('translateCorpus', {
        taskQueue: recipe.queues.cpu,
        workflowId: 'tc-poison-under',
        args: [await poisoned('poison-under', 0.05)], // 1 of 30 rows: 0.033
      });
      expect(result.rows).toBe(30);
      expect(result.quarantined_rows).toBe(1);
      expect(result.quarantine?.map((r) => r.uri)).toEqual([`${store.rootUri}/poison-under/shard-00001/quarantine.parquet`]);
    });

    it('fails TooManyFailedRows, non-retryable, naming the rate, the bound, the count and the rows, at max_error_rate 0', async () => {
      const handle = await env.client.workflow.start<typeof translateCorpus>('translateCorpus', {
        taskQueue: recipe.queues.cpu,
        workflowId: 'tc-poison-zero',
        args: [await poisoned('poison-zero', 0)],
      });
      const failure = await handle.result().then(() => undefined, (e: unknown) => e);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: 'TooManyFailedRows', nonRetryable: true });
      expect(cause!.message).toContain('1 of 30 rows failed alone');
      expect(cause!.message).toContain('error rate 0.0333');
      expect(cause!.message).toContain('over generation.translator.max_error_rate 0.');
      expect(cause!.message).toContain(`${store.rootUri}/poison-zero/shard-00001/quarantine.parquet`);
      // Every shard ran once: the failure is the fan-out's verdict, not a retried activity's.
      expect(fakes.calls.filter((c) => String(c.input.output_prefix).startsWith(`${store.rootUri}/poison-zero/`))).toHaveLength(3);
    });
  });
});
