// Translation fan-outs (workflows/translate-corpus.ts, the real workflow and its activity proxies)
// of campaigns that share one GPU queue, held back until every shard of every fan-out waits in the
// queue's backlog; then one GPU worker with a single slot serves them, and the order it was handed
// the shards in is the server's dispatch order. For test/workflow/priority-fairness.test.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Priority } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { FileStore } from '../../activities/store';
import { createQueuePollerActivities } from '../../activities/queue-pollers';
import { createRefListActivities, saveRefList } from '../../activities/ref-lists';
import { loadRecipe } from '../../cli/recipe-file';
import type { ArtifactRef } from '../../contracts/artifact';
import { CODE_VERSION } from '../../contracts/version';
import type { StageRuntime } from '../../workflows/stages/declaration';
import type { translateCorpus } from '../../workflows/translate-corpus';
import { recordingActivities } from './fake-activities';
import { workflowBundle } from './temporal-env';
import { until } from './until';

export interface FanOutSpec {
  /** The fan-out's campaign; its shards are told apart by it. */
  campaign: string;
  shards: number;
  /** As the campaign hands it to its stages (contracts/scheduling.ts); absent: none set. */
  priority?: Priority;
}

/** The campaign of each shard the GPU worker ran, in the order it was handed them. */
export async function dispatchOrder(env: TestWorkflowEnvironment, queue: string, fanOuts: FanOutSpec[]): Promise<string[]> {
  const storeDir = mkdtempSync(path.join(tmpdir(), 'hala-fair-'));
  const store = new FileStore(`file://${storeDir}`);
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const { recipe } = loaded;
  const queues = { ...recipe.queues, cpu: `${queue}-cpu`, infer: queue };
  const connection = env.nativeConnection;
  const cpu = await Worker.create({
    connection,
    taskQueue: queues.cpu,
    workflowBundle: await workflowBundle(),
    activities: { ...createRefListActivities({ store }), ...createQueuePollerActivities() },
  });
  const cpuRun = cpu.run();
  const fakes = recordingActivities({ delayMs: 1, store });
  let gpu: Worker | undefined;
  let gpuRun: Promise<void> | undefined;
  try {
    const handles = [];
    // One after the other, each wholly scheduled before the next starts: first come is the first listed.
    for (const spec of fanOuts) {
      const shards: ArtifactRef[] = Array.from({ length: spec.shards }, (_, k) => ({ uri: `file://${storeDir}/${spec.campaign}/shard-${k}.parquet`, sha256: '0'.repeat(64), kind: 'dataset', bytes: 1, rows: 1 }));
      const runtime: StageRuntime = {
        campaign_id: spec.campaign,
        store_root: `file://${storeDir}`,
        code_version: CODE_VERSION,
        forced: false,
        queues,
        timeouts: recipe.timeouts,
        retries: recipe.retries,
        // Every shard in flight at once: the whole fan-out is backlog.
        fan_out: { window: spec.shards, shards_per_run: spec.shards },
        // None given: the server's default key and one shared fairness key, as before priorities existed.
        priority: spec.priority ?? {},
      };
      const handle = await env.client.workflow.start<typeof translateCorpus>('translateCorpus', {
        taskQueue: queues.cpu,
        workflowId: `${queue}-${spec.campaign}`,
        // No priority on the workflow itself (a campaign gives its fan-outs one too): the shards'
        // order must come from what the activity proxies set, not from the server's inheritance.
        args: [{
          runtime,
          stage_key: spec.campaign,
          output_prefix: `file://${storeDir}/${spec.campaign}/out`,
          model: 'hf://fake/translator',
          shard_list: await saveRefList(store, `file://${storeDir}/${spec.campaign}/shards.json`, shards),
          shard_count: spec.shards,
          generation: { engine: 'transformers', batch_size: 8, max_new_tokens: 16, tensor_parallel_size: 1, max_error_rate: 0.001 },
          prompt_template: 'Translate: {text}',
        }],
      });
      await until(`${spec.shards} shards of ${spec.campaign} scheduled`, async () => (await pendingShards(handle)) === spec.shards, 30_000);
      handles.push(handle);
    }
    // Every shard waits in the backlog: now one worker with one slot takes them one at a time.
    gpu = await Worker.create({ connection, taskQueue: queue, activities: fakes.gpu, maxConcurrentActivityTaskExecutions: 1 });
    gpuRun = gpu.run();
    await Promise.all(handles.map((h) => h.result()));
    return fakes.calls.filter((c) => c.name === 'translate_shard').map((c) => String(c.input.stage_key));
  } finally {
    gpu?.shutdown();
    cpu.shutdown();
    await Promise.all([cpuRun, gpuRun]);
  }
}

async function pendingShards(handle: { describe(): Promise<{ raw: { pendingActivities?: { activityType?: { name?: string | null } | null }[] | null } }> }): Promise<number> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'translate_shard').length;
}
