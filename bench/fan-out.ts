// Usage: npx tsx bench/fan-out.ts [--quick]
// The real translation fan-out (workflows/translate-corpus.ts) at 100, 1,000 and 10,000 shards of 500
// rows (5M rows at the top; --quick: 100 shards), on the local dev server with the recipe's default
// window and continue-as-new interval, the real ref-list activities over a temporary FileStore and a
// no-op translate_shard that answers at once with a well-formed TranslateShardOutput. Reports wall
// time, the most events in any run's history, the largest payload in any of them and how many times
// it continued as new. Prints figures; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadRecipe } from '../cli/recipe-file';
import type { ArtifactRef } from '../contracts/artifact';
import type { TranslateShardInput, TranslateShardOutput } from '../contracts/gpu-activities';
import { Recipe } from '../contracts/recipe';
import { createQueuePollerActivities } from '../activities/queue-pollers';
import { createRefListActivities, saveRefList } from '../activities/ref-lists';
import { FileStore } from '../activities/store';
import type { StageRuntime } from '../workflows/stages/declaration';
import type { TranslateCorpusInput, translateCorpus } from '../workflows/translate-corpus';
import { createLocalEnv, workflowBundle } from '../test/support/temporal-env';
import { continuedAsNewRunId, largestPayload } from './lib/history-stats';
import { printBenchLine, type BenchRow } from './lib/bench-line';
import { describeMachine } from './lib/machine';
import { installQuietRuntime } from './lib/quiet-runtime';
import { loadAverage } from './lib/load-average';
import { CODE_VERSION } from '../contracts/version';

const ROWS_PER_SHARD = 500;
const sha = 'e'.repeat(64);

/** What the Python runner would hand back for a shard it translated, without translating anything. */
function noopTranslateShard(done: Set<string>) {
  return async (input: TranslateShardInput): Promise<TranslateShardOutput> => {
    const info = Context.current().info;
    done.add(input.output_prefix);
    const now = new Date().toISOString();
    return {
      translations: { uri: `${input.output_prefix}/translations.parquet`, sha256: sha, kind: 'dataset', bytes: 40_000, rows: ROWS_PER_SHARD },
      rows: ROWS_PER_SHARD, generated_tokens: 30 * ROWS_PER_SHARD, seconds: 0, tokens_per_second: 0, engine: 'transformers',
      resumed_rows: 0, engine_batch_size: input.batch_size, oom_halvings: 0,
      run: { activity: 'translate_shard', activity_id: info.activityId, attempt: info.attempt, worker: `${process.pid}@bench`, device: 'cuda x1', gpus: 1, started_at: now, ended_at: now, seconds: 0, gpu_seconds: 0 },
    };
  };
}

interface FanOutFigures {
  shards: number;
  wallS: number;
  runs: number;
  maxEvents: number;
  payload: { bytes: number; where: string };
  rows: number;
  everyShardOnce: boolean;
}

/** Every run of a workflow, first to last, following continue-as-new. */
async function runHistories(env: TestWorkflowEnvironment, workflowId: string, firstRunId: string): Promise<History[]> {
  const histories: History[] = [];
  for (let runId: string | undefined = firstRunId; runId; ) {
    const history: History = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.push(history);
    runId = continuedAsNewRunId(history);
  }
  return histories;
}

async function main() {
  installQuietRuntime();
  const quick = process.argv.includes('--quick');
  const sizes = quick ? [100] : [100, 1_000, 10_000];
  const machine = describeMachine();
  const loaded = loadRecipe(path.join(__dirname, '../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const recipe = loaded.recipe;
  // Paper-scale scheduling: the recipe defaults, not the tiny world's window of 2.
  const fan_out = Recipe.shape.fan_out.parse(undefined);
  console.log(`fan-out: ${sizes.join(', ')} shards of ${ROWS_PER_SHARD} rows, window ${fan_out.window}, continue-as-new every ${fan_out.shards_per_run} shards; ${machine}; load average ${loadAverage()}`);

  const dir = mkdtempSync(path.join(tmpdir(), 'hala-bench-fanout-'));
  const store = new FileStore(`file://${dir}`);
  const done = new Set<string>();
  const env = await createLocalEnv();
  const figures: FanOutFigures[] = [];
  try {
    const cpu = await Worker.create({ connection: env.nativeConnection, taskQueue: recipe.queues.cpu, workflowBundle: await workflowBundle(), activities: { ...createRefListActivities({ store }), ...createQueuePollerActivities() } });
    const gpu = await Worker.create({ connection: env.nativeConnection, taskQueue: recipe.queues.infer, activities: { translate_shard: noopTranslateShard(done) } });
    const runtime: StageRuntime = { campaign_id: 'bench', store_root: store.rootUri, code_version: CODE_VERSION, forced: false, queues: recipe.queues, timeouts: recipe.timeouts, retries: recipe.retries, fan_out, priority: {} };
    const { prompt_template: _prompt, ...generation } = recipe.generation.translator;
    await Promise.all([cpu.run(), gpu.run(), (async () => {
      try {
        for (const shards of sizes) {
          const refs: ArtifactRef[] = Array.from({ length: shards }, (_, i) => ({ uri: `${store.rootUri}/in/${shards}/shard-${i}.parquet`, sha256: sha, kind: 'dataset', bytes: 30_000, rows: ROWS_PER_SHARD }));
          const output_prefix = `${store.rootUri}/out/${shards}`;
          const input: TranslateCorpusInput = {
            runtime, stage_key: 'b'.repeat(64), output_prefix, model: 'hf://bench/translator',
            shard_list: await saveRefList(store, `${store.rootUri}/in/${shards}.json`, refs), shard_count: shards,
            generation, prompt_template: 'Translate to Arabic: {text}',
          };
          const workflowId = `bench-fan-out-${shards}`;
          const t0 = performance.now();
          const handle = await env.client.workflow.start<typeof translateCorpus>('translateCorpus', { taskQueue: recipe.queues.cpu, workflowId, args: [input] });
          const result = await handle.result();
          const wallS = (performance.now() - t0) / 1000;
          const histories = await runHistories(env, workflowId, handle.firstExecutionRunId);
          const payload = histories.map(largestPayload).reduce((a, b) => (b.bytes > a.bytes ? b : a));
          const translated = [...done].filter((p) => p.startsWith(`${output_prefix}/`)).length;
          const f: FanOutFigures = {
            shards, wallS, runs: histories.length, maxEvents: Math.max(...histories.map((h) => h.events?.length ?? 0)), payload, rows: result.rows,
            everyShardOnce: translated === shards && result.activities[0]?.count === shards,
          };
          figures.push(f);
          console.log(`  ${shards} shards (${f.rows} rows): ${f.wallS.toFixed(1)} s = ${Math.round(shards / f.wallS)} shards/s; ${f.runs} runs (${f.runs - 1} continue-as-new), ` +
            `largest history ${f.maxEvents} events, largest payload ${f.payload.bytes} B (${f.payload.where}); every shard translated once: ${f.everyShardOnce ? 'yes' : 'NO'}`);
        }
      } finally {
        cpu.shutdown();
        gpu.shutdown();
      }
    })()]);
  } finally {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }

  const rows: BenchRow[] = [];
  for (const f of figures) {
    const complete = f.everyShardOnce && f.rows === f.shards * ROWS_PER_SHARD;
    rows.push(
      { figure: `fan-out ${f.shards} shards (${f.rows.toLocaleString('en')} rows): wall time`, hala: `${f.wallS.toFixed(1)} s (${Math.round(f.shards / f.wallS)} shards/s)`, peers: {}, target: f.shards === 10_000 ? 'completes, each shard once' : '', met: f.shards === 10_000 ? complete : null },
      { figure: `fan-out ${f.shards} shards: largest history of any run`, hala: `${f.maxEvents} events`, peers: {}, target: '≤ 10,000 events', met: f.maxEvents <= 10_000 },
      { figure: `fan-out ${f.shards} shards: largest payload`, hala: `${(f.payload.bytes / 1024).toFixed(1)} KB (${f.payload.where})`, peers: {}, target: '≤ 256 KB', met: f.payload.bytes <= 256 * 1024 },
      { figure: `fan-out ${f.shards} shards: continue-as-new count`, hala: String(f.runs - 1), peers: {}, target: '', met: null },
    );
  }
  printBenchLine('fan-out', rows, `${sizes.join(' / ')} shards × ${ROWS_PER_SHARD} rows, window ${fan_out.window}, ${fan_out.shards_per_run} shards per run (load average ${loadAverage()} at the end)`, machine);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
