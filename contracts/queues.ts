/**
 * Task queues by role: the CPU worker's, and one per kind of GPU work. Which activity runs on which
 * role is in the activity table (contracts/gpu-activities.ts).
 */
export const DefaultQueues = {
  cpu: 'hala-cpu',
  quantize: 'hala-gpu-quantize',
  infer: 'hala-gpu-infer',
  train: 'hala-gpu-train',
  eval: 'hala-gpu-eval',
} as const;
export type QueueRole = keyof typeof DefaultQueues;
