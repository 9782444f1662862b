// Workflow-side handles on every activity, bound to the recipe's queues.
import { proxyActivities } from '@temporalio/workflow';
import type { Recipe } from '../contracts/recipe';
import type { CpuActivityFns } from '../activities/cpu-api';
import { gpuActivityOptions, type GpuActivityFns } from '../activities/gpu';
import { GpuActivities, type GpuActivityName } from '../contracts/queues';
import { nonRetryableErrorTypes } from '../contracts/errors';

// `recipe.timeouts` is optional chained: campaigns started before the knob existed carry recipes without it.
const heartbeatSeconds = (recipe: Recipe): number | undefined => recipe.timeouts?.heartbeat_s;

export function cpuActivities(recipe: Recipe): CpuActivityFns {
  return proxyActivities<CpuActivityFns>({
    taskQueue: recipe.queues.cpu,
    startToCloseTimeout: '2h',
    heartbeatTimeout: `${heartbeatSeconds(recipe) ?? 120}s`,
    retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes },
  });
}

/** One proxy per Python activity, each on the queue of its role (quantize, infer, train, eval). */
export function gpuActivities(recipe: Recipe): GpuActivityFns {
  const proxy = <N extends GpuActivityName>(name: N): GpuActivityFns[N] =>
    proxyActivities<GpuActivityFns>(gpuActivityOptions(name, recipe.queues[GpuActivities[name]], heartbeatSeconds(recipe)))[name];
  return {
    compress_teacher: proxy('compress_teacher'),
    translate_shard: proxy('translate_shard'),
    train_sft: proxy('train_sft'),
    merge_slerp: proxy('merge_slerp'),
    evaluate_benchmarks: proxy('evaluate_benchmarks'),
    score_translation: proxy('score_translation'),
  };
}
