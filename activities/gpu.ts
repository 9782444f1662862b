// The Python activities, declared for workflows: names, payload types, timeouts, retries.
// Imported by workflow code, so it holds types and plain data only (no Node builtins).
import type { ActivityOptions, Duration } from '@temporalio/common';
import type {
  CompressTeacherInput,
  CompressTeacherOutput,
  EvaluateBenchmarksInput,
  EvaluateBenchmarksOutput,
  MergeSlerpInput,
  MergeSlerpOutput,
  ScoreTranslationInput,
  ScoreTranslationOutput,
  TrainSftInput,
  TrainSftOutput,
  TranslateShardInput,
  TranslateShardOutput,
} from '../contracts/gpu-activities';
import type { GpuActivityName } from '../contracts/queues';
import { nonRetryableErrorTypes } from '../contracts/errors';

/** Served by gpu-runners/hala_runners/activities.py under exactly these names. */
export interface GpuActivityFns {
  compress_teacher(input: CompressTeacherInput): Promise<CompressTeacherOutput>;
  translate_shard(input: TranslateShardInput): Promise<TranslateShardOutput>;
  train_sft(input: TrainSftInput): Promise<TrainSftOutput>;
  merge_slerp(input: MergeSlerpInput): Promise<MergeSlerpOutput>;
  evaluate_benchmarks(input: EvaluateBenchmarksInput): Promise<EvaluateBenchmarksOutput>;
  score_translation(input: ScoreTranslationInput): Promise<ScoreTranslationOutput>;
}

/**
 * Start-to-close bounds a whole attempt (a 9B SFT takes hours); the heartbeat timeout is what
 * notices a dead worker quickly, so it stays short: runners heartbeat while loading too.
 */
const timeouts: Record<GpuActivityName, { startToClose: Duration; heartbeat: Duration }> = {
  compress_teacher: { startToClose: '12h', heartbeat: '5m' },
  translate_shard: { startToClose: '2h', heartbeat: '2m' },
  train_sft: { startToClose: '72h', heartbeat: '5m' },
  merge_slerp: { startToClose: '6h', heartbeat: '5m' },
  evaluate_benchmarks: { startToClose: '12h', heartbeat: '5m' },
  score_translation: { startToClose: '1h', heartbeat: '2m' },
};

/** `heartbeatSeconds` overrides the default (recipe `timeouts.heartbeat_s`). */
export function gpuActivityOptions(name: GpuActivityName, taskQueue: string, heartbeatSeconds?: number): ActivityOptions {
  const t = timeouts[name];
  return {
    taskQueue,
    startToCloseTimeout: t.startToClose,
    heartbeatTimeout: heartbeatSeconds !== undefined ? `${heartbeatSeconds}s` : t.heartbeat,
    // Preemptions and OOMs heal with time; bad input never does (contracts/errors.ts).
    retry: {
      initialInterval: '5s',
      backoffCoefficient: 2,
      maximumInterval: '5m',
      maximumAttempts: 20,
      nonRetryableErrorTypes,
    },
  };
}
