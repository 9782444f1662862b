// Fan-out: translate many segment shards with a bounded window of activities in flight, and
// continue-as-new every `shards_per_run` shards so the history stays far from Temporal's limits.
// Shard references come and go as lists in the store (activities/ref-lists.ts): each run reads its
// page of input shards and writes one list of translated shards, so what continue-as-new carries
// stays a few KB however many shards there are.
import { condition, defineSignal, makeContinueAsNewFunc, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { releaseOf } from '../contracts/version';
import type { ArtifactRef } from '../contracts/artifact';
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import type { TranslateShardOutput } from '../contracts/gpu-activities';
import type { ActivitySummary } from '../contracts/lineage';
import type { GenerationKnobs } from '../contracts/recipe';
import type { TranslationCacheTarget } from '../contracts/translation-cache';
import { GpuActivityTable } from '../contracts/gpu-activities';
import { cpuActivities, gpuActivity, gpuQueueOf } from './activity-proxies';
import { summarizeRuns } from './activity-summaries';
import { watchQueue } from './queue-watch';
import { requireOwnRelease } from './release-guard';
import { clock, fanOutDetails } from './stage-story';
import { addQuarantined, checkErrorRate, type QuarantineTotals } from './quarantine-rate';
import type { StageRuntime } from './stages/declaration';

export const translatePauseSignal = defineSignal<[boolean]>('translate-paused');

export interface TranslateCorpusInput {
  /** The parent stage's runtime: queues, timeouts and the fan-out's window. */
  runtime: StageRuntime;
  stage_key: string;
  output_prefix: string;
  model: string;
  /** The shards to translate: a list in the store, `shard_count` long. */
  shard_list: ArtifactRef;
  shard_count: number;
  /** The engine settings; the prompt comes apart, with the language already filled in (`{text}` left). */
  generation: Omit<GenerationKnobs, 'prompt_template'>;
  prompt_template: string;
  /** The recipe field `generation.max_error_rate` comes from, named when the fan-out fails on it; default generation.max_error_rate. */
  error_rate_field?: string;
  /** Each translated shard joins this translation-cache namespace (workflows/cached-translation.ts); absent: no cache. */
  cache?: TranslationCacheTarget;
  /** Set by continue-as-new: the first shard of this run and what earlier runs produced. */
  start?: number;
  /** One list of translated shards per finished run. */
  translation_lists?: ArtifactRef[];
  totals?: ShardTotals;
  /** How earlier runs' activities went, already folded: per-shard run records would grow without bound. */
  activities?: ActivitySummary[];
  paused?: boolean;
}

interface ShardTotals extends QuarantineTotals {
  /** Rows of the shards, quarantined ones included. */
  rows: number;
  generated_tokens: number;
  resumed_rows: number;
  /** Out-of-memory halvings of the engine batch, summed over shards. */
  oom_halvings: number;
}

/** The quarantine figures are absent from a fan-out result recorded before rows could fail alone (replayed histories). */
export interface TranslateCorpusOutput extends Omit<ShardTotals, keyof QuarantineTotals>, Partial<QuarantineTotals> {
  /** The translated shards (parquet id, text, translation), as lists in the store, in shard order. */
  translation_lists: ArtifactRef[];
  /** Every shard's activity, folded into one row (count, attempts, retries, seconds, GPU-seconds). */
  activities: ActivitySummary[];
}

export async function translateCorpus(input: TranslateCorpusInput): Promise<TranslateCorpusOutput> {
  const { runtime } = input;
  requireOwnRelease(runtime.code_version, `translation fan-out of campaign ${runtime.campaign_id}`);
  const cpu = cpuActivities(runtime);
  let paused = input.paused ?? false;
  setHandler(translatePauseSignal, (value) => {
    paused = value;
    show();
  });

  const start = input.start ?? 0;
  const end = Math.min(input.shard_count, start + runtime.fan_out.shards_per_run);
  // A set whose every row was quarantined has no shard: nothing to page in (and nothing to ask for).
  const page = end > start ? await cpu.loadRefPage({ list: input.shard_list, start, count: end - start }) : [];
  const results: TranslateShardOutput[] = [];
  let activities = input.activities ?? [];
  const inFlight = new Map<number, Promise<void>>();
  let next = start;

  // The fan-out's progress is its own completions: shards and rows done, rate and ETA over this run.
  const queue = gpuQueueOf(runtime, 'translate_shard');
  const runStartedAt = clock();
  let noWorker: { queue: string; since: number } | undefined;
  const doneThisRun = () => results.filter(Boolean).length;
  const show = () =>
    setCurrentDetails(
      fanOutDetails({
        shards_done: start + doneThisRun(),
        shard_count: input.shard_count,
        rows_done: (input.totals?.rows ?? 0) + results.reduce((n, r) => n + (r?.rows ?? 0), 0),
        in_flight: inFlight.size,
        run_started_at: runStartedAt,
        done_this_run: doneThisRun(),
        now: clock(),
        paused,
        no_worker: noWorker,
      }),
    );
  show();
  // Until a first shard of this run comes back, make sure someone serves the queue.
  const watch = watchQueue({
    cpu,
    queue,
    role: GpuActivityTable.translate_shard.role,
    every_s: runtime.timeouts.no_worker_s,
    settled: () => doneThisRun() > 0 || (next >= end && inFlight.size === 0),
    checked: (unserved) => {
      noWorker = unserved ? { queue, since: runStartedAt } : undefined;
      show();
    },
  }).catch(() => undefined); // cancelled with the fan-out, whose shards report it


  const translate = (index: number) =>
    gpuActivity(runtime, 'translate_shard', `translate shard ${index + 1}/${input.shard_count}`)({
        stage_key: input.stage_key,
        output_prefix: `${input.output_prefix}/shard-${String(index).padStart(5, '0')}`,
        model: input.model,
        shard: page[index - start]!,
        engine: input.generation.engine,
        batch_size: input.generation.batch_size,
        max_new_tokens: input.generation.max_new_tokens,
        tensor_parallel_size: input.generation.tensor_parallel_size,
        prompt_template: input.prompt_template,
        ...(input.cache ? { cache: input.cache } : {}),
      })
      .then((out) => {
        results[index - start] = out;
        activities = summarizeRuns([out], activities);
        inFlight.delete(index);
        noWorker = undefined;
        show();
      });

  while (next < end || inFlight.size > 0) {
    await condition(() => !paused || inFlight.size > 0);
    while (!paused && next < end && inFlight.size < runtime.fan_out.window) {
      inFlight.set(next, translate(next));
      next++;
    }
    show();
    if (inFlight.size > 0) await Promise.race(inFlight.values());
  }
  await watch;

  const list = await cpu.saveRefList({
    uri: `${input.output_prefix}/runs/run-${String(start).padStart(6, '0')}.json`,
    refs: results.map((r) => r.translations),
  });
  const translation_lists = [...(input.translation_lists ?? []), list];
  const totals = addTotals(input.totals, results);
  if (end < input.shard_count) {
    const next = makeContinueAsNewFunc<typeof translateCorpus>(await continuedOn(cpu, runtime.code_version));
    await next({ ...input, start: end, translation_lists, totals, activities, paused });
  }
  // Every shard is done: rows that failed alone fail the stage only past the recipe's bound.
  checkErrorRate(totals.rows, totals, {
    max_error_rate: input.generation.max_error_rate,
    field: input.error_rate_field ?? 'generation.max_error_rate',
    output_prefix: input.output_prefix,
  });
  return { translation_lists, ...totals, activities };
}

/**
 * Where the next run goes. A fan-out is pinned to the build it started on, like its campaign; when
 * the deployment's current build has changed since, the next run moves to it (a long fan-out picks
 * up fixes), but only within the release: a build of another release could not take this input.
 */
async function continuedOn(cpu: CpuActivityFns, codeVersion: string): Promise<{ initialVersioningBehavior?: 'AUTO_UPGRADE' }> {
  if (!workflowInfo().targetWorkerDeploymentVersionChanged) return {};
  const { build_id } = await cpu.deploymentTarget();
  return build_id !== null && releaseOf(build_id) === releaseOf(codeVersion) ? { initialVersioningBehavior: 'AUTO_UPGRADE' } : {};
}

function addTotals(before: ShardTotals | undefined, outputs: TranslateShardOutput[]): ShardTotals {
  const t = { rows: 0, generated_tokens: 0, resumed_rows: 0, oom_halvings: 0, ...before, ...addQuarantined(before, outputs) };
  for (const o of outputs) {
    t.rows += o.rows;
    t.generated_tokens += o.generated_tokens;
    t.resumed_rows += o.resumed_rows;
    t.oom_halvings += o.oom_halvings;
  }
  return t;
}
