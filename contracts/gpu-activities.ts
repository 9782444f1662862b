import { z } from 'zod';
import { ArtifactRef, SourceUri, StoreUri } from './artifact';
import type { QueueRole } from './queues';
import { BenchmarkFormat } from './recipe';
import { CompressMethod } from './stages/compress-teacher';
import { EvalFormulation, EvalHarness } from './stages/evaluate';
import { TrainKnobs } from './stages/train-knobs';
import { DoctorProbeInput, DoctorProbeOutput } from './doctor';
import { TranslationCacheTarget } from './translation-cache';

// Payloads of the activities the Python runners serve. Every input names `output_prefix`, the
// deterministic store prefix derived from the stage key: outputs and checkpoints go below it, so a
// retry finds what an earlier attempt left.

/**
 * How one Python activity ran: added by the activity wrapper (gpu-runners activities.py) to every
 * output, absent when a runner CLI runs alone. Feeds lineage (producer, GPU-seconds) and rework figures.
 */
export const ActivityRun = z.object({
  activity: z.string(),
  activity_id: z.string(),
  attempt: z.number().int().positive().describe('1 on a first try; a retry after preemption counts up'),
  worker: z.string().describe('worker identity (pid@host)'),
  device: z.string().describe('cuda (with the GPU count) or cpu'),
  gpus: z.number().int().nonnegative(),
  started_at: z.string(),
  ended_at: z.string(),
  seconds: z.number().nonnegative().describe('wall time of this attempt'),
  gpu_seconds: z.number().nonnegative().describe('seconds x GPUs held; 0 on CPU'),
});
export type ActivityRun = z.infer<typeof ActivityRun>;
const run = ActivityRun.optional();

/**
 * How the Python activity watches its runner (recipe `timeouts.stall_s`, `retries.runner_failed`):
 * read by the activity wrapper, never passed to the runner.
 */
export const Supervision = z.object({
  stall_s: z.number().int().positive().describe('no progress event for this long: the runner is killed and the activity fails Stalled'),
  runner_failed_attempts: z.number().int().positive().describe('a RunnerFailed failure on this attempt number or later is final'),
  progress_s: z.number().int().positive().optional().describe('least seconds between progress signals to the stage workflow (contracts/activity-progress.ts); absent: none are sent'),
});
export type Supervision = z.infer<typeof Supervision>;

const Common = z.object({
  stage_key: z.string().regex(/^[0-9a-f]{64}$/),
  output_prefix: StoreUri,
  supervision: Supervision,
});

export const CompressTeacherInput = Common.extend({
  model: SourceUri,
  scheme: z.enum(['FP8_DYNAMIC']),
  ignore: z.array(z.string()),
  method: CompressMethod,
});
export const CompressTeacherOutput = z.object({
  model: ArtifactRef,
  method: CompressMethod.exclude(['auto']).describe('the path that ran (auto resolved by the runner)'),
  quantized_linear_layers: z.number().int().nonnegative(),
  ignored: z.array(z.string()),
  seconds: z.number().nonnegative(),
  run,
});

/** Input shard: parquet with columns `id` (string) and `text` (string). */
export const TranslateShardInput = Common.extend({
  model: SourceUri,
  shard: ArtifactRef,
  engine: z.enum(['auto', 'vllm', 'transformers']),
  batch_size: z.number().int().positive(),
  max_new_tokens: z.number().int().positive(),
  /** GPUs one engine of the model spans (vLLM tensor parallelism); the worker must see at least this many. */
  tensor_parallel_size: z.number().int().positive(),
  /** Already formatted with the target language; `{text}` is the only placeholder left. */
  prompt_template: z.string(),
  /** Register the published shard in the translation cache (a pointer under parts_prefix); absent: no cache. */
  cache: TranslationCacheTarget.optional(),
});
/** Output shard: parquet with columns `id`, `text`, `translation`; a quarantined row has no line in it. */
export const TranslateShardOutput = z.object({
  translations: ArtifactRef,
  rows: z.number().int().nonnegative(),
  generated_tokens: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  tokens_per_second: z.number().nonnegative(),
  engine: z.enum(['vllm', 'transformers']),
  resumed_rows: z.number().int().nonnegative().describe('rows taken from an earlier attempt'),
  /** Rows per engine call: the recipe's batch, or half of it per out-of-memory retry (chunks keep the recipe's size). */
  engine_batch_size: z.number().int().positive(),
  oom_halvings: z.number().int().nonnegative(),
  /**
   * Rows of the shard (counted in `rows`) with no translation: the engine raised on each alone
   * (runners/quarantine.py). Always sent by this release's runner; absent (read as 0) in results
   * recorded by an earlier one, which workflows replay.
   */
  quarantined_rows: z.number().int().nonnegative().optional(),
  /** `<output_prefix>/quarantine.parquet` (id, text, error_type, error, attempts); absent when no row was quarantined. */
  quarantine: ArtifactRef.optional(),
  run,
});

/** Dataset: parquet with column `messages` (list of {role, content}), the chat layout TRL reads. */
export const TrainSftInput = Common.extend({
  dataset: ArtifactRef,
  seed: z.number().int().nonnegative(),
  knobs: TrainKnobs,
  base_field: z.string().optional().describe('recipe path of knobs.base (stages.sft.students[0].base): what errors about the base name; default knobs.base'),
});
/**
 * The loss curve of a training run, from the Trainer's log history (one point per logged step, earlier
 * attempts' steps included after a resume): `<output_prefix>/loss_history.json`, which `hala report` plots.
 */
export const LossHistory = z.object({
  points: z.array(
    z.object({
      step: z.number().int().nonnegative(),
      loss: z.number(),
      learning_rate: z.number().optional(),
      grad_norm: z.number().optional(),
      epoch: z.number().optional(),
    }),
  ),
});
export type LossHistory = z.infer<typeof LossHistory>;

export const TrainSftOutput = z.object({
  model: ArtifactRef,
  /** The LossHistory file; absent from runs recorded before loss histories were kept (cached manifests still hold those). */
  loss_history: ArtifactRef.optional(),
  steps: z.number().int().nonnegative(),
  final_loss: z.number(),
  resumed_from_step: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  /** What it trained with: the recipe's batch, or half of it per out-of-memory retry (accumulation doubled). */
  per_device_batch_size: z.number().int().positive(),
  gradient_accumulation_steps: z.number().int().positive(),
  oom_halvings: z.number().int().nonnegative(),
  /**
   * The chat template the loss mask came from and the loss (gpu-runners/hala_runners/training_template.py):
   * `base` (its own, with {% generation %} markers), `trl` (TRL's training version of it), `hala:<name>`
   * (a marked template of the project that renders the same text); completion_only where none could
   * mask the replies and every chat ends on its only reply. Absent from runs recorded before it was kept.
   */
  training_template: z
    .object({
      template: z.string().regex(/^(base|trl|hala:[a-z0-9_-]+)$/),
      loss: z.enum(['assistant_only', 'completion_only']),
    })
    .optional(),
  /**
   * What the last checkpoint cost (gpu-runners/hala_runners/runners/train_checkpoints.py): seconds from the
   * end of its step to its sealed manifest, and the bytes each rank hashed and uploaded. A SIGTERM
   * checkpoint costs the same, so it must fit the train pool's kill grace. Absent when the run saved none.
   */
  checkpoint: z
    .object({
      step: z.number().int().nonnegative(),
      seconds: z.number().nonnegative(),
      bytes_by_rank: z.array(z.number().int().nonnegative()).min(1),
    })
    .optional(),
  run,
});

export const MergeSlerpInput = Common.extend({
  base: SourceUri,
  tuned: ArtifactRef,
  t: z.union([z.number().min(0).max(1), z.array(z.number().min(0).max(1)).min(1)]),
  colinear_threshold: z.number().min(0).max(1),
});
export const MergeSlerpOutput = z.object({
  model: ArtifactRef,
  tensors: z.number().int().nonnegative(),
  linear_fallbacks: z.number().int().nonnegative(),
  resumed_tensors: z.number().int().nonnegative().optional().describe('tensors in output shards an earlier attempt finished'),
  run,
});

/** A part of every benchmark (stages.evaluate.validation): validation to choose on, test to report. */
export const BenchmarkSplit = z.object({ part: z.enum(['validation', 'test']), fraction: z.number().gt(0).lt(1) });
export type BenchmarkSplit = z.infer<typeof BenchmarkSplit>;

export const EvaluateBenchmarksInput = Common.extend({
  model: SourceUri,
  benchmarks: z.array(z.object({ name: z.string(), uri: SourceUri, format: BenchmarkFormat })).min(1),
  batch_size: z.number().int().positive(),
  harness: EvalHarness,
  formulation: EvalFormulation,
  chat_template: z.boolean(),
  /**
   * Which part of each benchmark is scored: its validation rows (a hash of the row's content below
   * `fraction`) or the rest, its test rows. Absent: every row (harness lighteval cannot be split).
   */
  split: BenchmarkSplit.optional(),
});
export const EvaluateBenchmarksOutput = z.object({
  /** acc_norm per benchmark, in percent. */
  scores: z.record(z.string(), z.number()),
  average: z.number(),
  report: ArtifactRef,
  /** What it scored with: the recipe's batch, or half of it per out-of-memory retry. */
  batch_size: z.number().int().positive(),
  oom_halvings: z.number().int().nonnegative(),
  run,
});

/** Hypotheses: parquet `id`, `translation`; references: parquet `id`, `reference`. */
export const ScoreTranslationInput = Common.extend({
  hypotheses: ArtifactRef,
  references: ArtifactRef,
  tokenize: z.enum(['intl', '13a', 'flores200']),
});
export const ScoreTranslationOutput = z.object({
  bleu: z.number(),
  chrf: z.number().describe('chrF++ (word order 2)'),
  rows: z.number().int().nonnegative(),
  tokenize: z.string(),
  run,
});

export type CompressTeacherInput = z.infer<typeof CompressTeacherInput>;
export type CompressTeacherOutput = z.infer<typeof CompressTeacherOutput>;
export type TranslateShardInput = z.infer<typeof TranslateShardInput>;
export type TranslateShardOutput = z.infer<typeof TranslateShardOutput>;
export type TrainSftInput = z.infer<typeof TrainSftInput>;
export type TrainSftOutput = z.infer<typeof TrainSftOutput>;
export type MergeSlerpInput = z.infer<typeof MergeSlerpInput>;
export type MergeSlerpOutput = z.infer<typeof MergeSlerpOutput>;
export type EvaluateBenchmarksInput = z.infer<typeof EvaluateBenchmarksInput>;
export type EvaluateBenchmarksOutput = z.infer<typeof EvaluateBenchmarksOutput>;
export type ScoreTranslationInput = z.infer<typeof ScoreTranslationInput>;
export type ScoreTranslationOutput = z.infer<typeof ScoreTranslationOutput>;

/** How often a GPU activity is tried: preemptions heal with time; bad input never does (contracts/errors.ts). */
const GpuRetry = { initial_interval_s: 5, backoff_coefficient: 2, maximum_interval_s: 300, maximum_attempts: 20 } as const;

/**
 * The one table of the Python activities: every other list derives from it. TypeScript takes the
 * activity functions' types and the proxies' options from it (contracts/gpu-activity-fns.ts); the JSON Schema
 * export carries it whole, and the Python worker builds its runner map, queue roles and error types
 * from that export. `runner` is the module in gpu-runners/hala_runners/runners that does the work.
 * Start-to-close bounds a whole attempt (a 9B SFT takes hours); the heartbeat timeout is what notices
 * a dead worker quickly, so it stays short: runners heartbeat while loading too.
 */
export const GpuActivityTable = {
  compress_teacher: { role: 'quantize', runner: 'compress', input: CompressTeacherInput, output: CompressTeacherOutput, start_to_close_s: 12 * 3600, heartbeat_s: 300, stall_s: 4 * 3600, retry: GpuRetry },
  translate_shard: { role: 'infer', runner: 'translate', input: TranslateShardInput, output: TranslateShardOutput, start_to_close_s: 2 * 3600, heartbeat_s: 120, stall_s: 1800, retry: GpuRetry },
  train_sft: { role: 'train', runner: 'train', input: TrainSftInput, output: TrainSftOutput, start_to_close_s: 72 * 3600, heartbeat_s: 300, stall_s: 1800, retry: GpuRetry },
  // A merge is seconds of weight arithmetic: on the train queue it waited behind SFT (README
  // "Where the first run's time goes"); the quantize pool does the other one-shot weight transform.
  merge_slerp: { role: 'quantize', runner: 'merge', input: MergeSlerpInput, output: MergeSlerpOutput, start_to_close_s: 6 * 3600, heartbeat_s: 300, stall_s: 1800, retry: GpuRetry },
  evaluate_benchmarks: { role: 'eval', runner: 'evaluate', input: EvaluateBenchmarksInput, output: EvaluateBenchmarksOutput, start_to_close_s: 12 * 3600, heartbeat_s: 300, stall_s: 1800, retry: GpuRetry },
  score_translation: { role: 'eval', runner: 'score', input: ScoreTranslationInput, output: ScoreTranslationOutput, start_to_close_s: 3600, heartbeat_s: 120, stall_s: 600, retry: GpuRetry },
} as const satisfies Record<string, GpuActivityRow>;

export interface GpuActivityRow {
  role: Exclude<QueueRole, 'cpu'>;
  runner: string;
  input: z.ZodType;
  output: z.ZodType;
  start_to_close_s: number;
  heartbeat_s: number;
  /** Default of `supervision.stall_s`: longer than the quietest legitimate step (loading, a checkpoint save). */
  stall_s: number;
  retry: { initial_interval_s: number; backoff_coefficient: number; maximum_interval_s: number; maximum_attempts: number };
}
export type GpuActivityName = keyof typeof GpuActivityTable;
export const gpuActivityNames = Object.keys(GpuActivityTable) as GpuActivityName[];

/**
 * Activities every Python worker serves whatever its role: `hala doctor`'s probe must run through
 * the very worker of each pool. Not in GpuActivityTable, whose rows each have one role (and a stage
 * proxy); the JSON Schema export carries them as `every_role_activities`. A probe failure is a fact
 * to report, never retried.
 */
export const EveryRoleActivityTable = {
  doctor_probe: { input: DoctorProbeInput, output: DoctorProbeOutput, start_to_close_s: 900, retry: { maximum_attempts: 1 } },
} as const;
