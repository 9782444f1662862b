// Fan-out: translate many segment shards with a bounded window of activities in flight, and
// continue-as-new every `shards_per_run` shards so the history stays far from Temporal's limits.
import { condition, continueAsNew, defineSignal, setHandler } from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifact';
import type { TranslateShardOutput } from '../contracts/gpu-activities';
import type { ActivitySummary } from '../contracts/lineage';
import type { GenerationKnobs, Recipe } from '../contracts/recipe';
import { gpuActivities } from './activity-proxies';
import { summarizeRuns } from './stage';

export const translatePauseSignal = defineSignal<[boolean]>('translate-paused');

export interface TranslateCorpusInput {
  recipe: Recipe;
  stage_key: string;
  output_prefix: string;
  model: string;
  shards: ArtifactRef[];
  generation: GenerationKnobs;
  /** Language already filled in; `{text}` left for the runner. */
  prompt_template: string;
  window: number;
  shards_per_run: number;
  /** Set by continue-as-new: the first shard of this run and what earlier runs produced. */
  start?: number;
  done?: TranslateShardOutput[];
  /** How earlier runs' activities went, already folded: per-shard run records would grow without bound. */
  activities?: ActivitySummary[];
  paused?: boolean;
}

export interface TranslateCorpusOutput {
  shards: TranslateShardOutput[];
  rows: number;
  generated_tokens: number;
  resumed_rows: number;
  /** Every shard's activity, folded into one row (count, attempts, retries, seconds, GPU-seconds). */
  activities: ActivitySummary[];
}

export async function translateCorpus(input: TranslateCorpusInput): Promise<TranslateCorpusOutput> {
  const gpu = gpuActivities(input.recipe);
  let paused = input.paused ?? false;
  setHandler(translatePauseSignal, (value) => {
    paused = value;
  });

  const start = input.start ?? 0;
  const end = Math.min(input.shards.length, start + input.shards_per_run);
  const results: TranslateShardOutput[] = [];
  let activities = input.activities ?? [];
  const inFlight = new Map<number, Promise<void>>();
  let next = start;

  const translate = (index: number) =>
    gpu
      .translate_shard({
        stage_key: input.stage_key,
        output_prefix: `${input.output_prefix}/shard-${String(index).padStart(5, '0')}`,
        model: input.model,
        shard: input.shards[index]!,
        engine: input.generation.engine,
        batch_size: input.generation.batch_size,
        max_new_tokens: input.generation.max_new_tokens,
        prompt_template: input.prompt_template,
      })
      .then(({ run, ...out }) => {
        // The run goes into the summary, not into `done`, which continue-as-new carries forward.
        results[index - start] = out;
        activities = summarizeRuns([{ run }], activities);
        inFlight.delete(index);
      });

  while (next < end || inFlight.size > 0) {
    await condition(() => !paused || inFlight.size > 0);
    while (!paused && next < end && inFlight.size < input.window) {
      inFlight.set(next, translate(next));
      next++;
    }
    if (inFlight.size > 0) await Promise.race(inFlight.values());
  }

  const done = [...(input.done ?? []), ...results];
  if (end < input.shards.length) {
    await continueAsNew<typeof translateCorpus>({ ...input, start: end, done, activities, paused });
  }
  return {
    shards: done,
    rows: done.reduce((n, s) => n + s.rows, 0),
    generated_tokens: done.reduce((n, s) => n + s.generated_tokens, 0),
    resumed_rows: done.reduce((n, s) => n + s.resumed_rows, 0),
    activities,
  };
}
