/**
 * Task queues and the names of the activities the Python runners serve. The Python side reads
 * the same names from contracts/json-schema/activities.json (exported from this file).
 */
export const DefaultQueues = {
  cpu: 'hala-cpu',
  quantize: 'hala-gpu-quantize',
  infer: 'hala-gpu-infer',
  train: 'hala-gpu-train',
  eval: 'hala-gpu-eval',
} as const;
export type QueueRole = keyof typeof DefaultQueues;

/** Python activity name -> the queue role that serves it. */
export const GpuActivities = {
  compress_teacher: 'quantize',
  translate_shard: 'infer',
  train_sft: 'train',
  merge_slerp: 'train',
  evaluate_benchmarks: 'eval',
  score_translation: 'eval',
} as const satisfies Record<string, QueueRole>;
export type GpuActivityName = keyof typeof GpuActivities;
