/**
 * Where the GPU work of a campaign runs: resource classes (a worker pool: its task queue, its GPUs,
 * what a GPU-hour costs) and routes from each kind of work to a class. A route only chooses the
 * queue an activity is scheduled on, never what it computes, so no route is in any stage key; what
 * the work itself is told (a model's tensor_parallel_size) lives with that model's generation knobs.
 * Without a route, work goes to its role's queue (`queues`), as on the local stack.
 */
import { z } from 'zod';
import { positiveInt } from './numbers';
import type { QueueRole } from './queues';


export const ResourceClass = z.strictObject({
  queue: z.string().min(1).describe('task queue of the worker pool with these resources (deploy/ runs one Deployment per queue)'),
  gpus: positiveInt().default(1).describe('GPUs of one worker of the pool: the most a model or a training run on it may use'),
  gpu_type: z.string().default('any').describe('e.g. H100-80GB; shown in plans and reports'),
  gpu_memory_gb: z.number().positive().optional().describe('memory of one GPU of the pool'),
  price_per_gpu_hour: z.number().min(0).default(0).describe('what one GPU-hour of the pool costs, in the currency of your choice (plans and reports)'),
});
export type ResourceClass = z.infer<typeof ResourceClass>;

/** Each kind of GPU work a campaign does: what it runs, and the queue role whose workers do it. */
export const ROUTES = {
  compress: { role: 'quantize', what: 'FP8 compression of the teacher' },
  teacher: { role: 'infer', what: 'every inference with the teacher, BF16 and FP8 (its check, the Open-Orca translation)' },
  translator: { role: 'infer', what: 'every inference with the translator and its base (instruction sets, its evaluation)' },
  score: { role: 'eval', what: 'BLEU / chrF++ scoring' },
  train_translator: { role: 'train', what: "the translator's fine-tuning" },
  sft: { role: 'train', what: "every student's fine-tuning, unless `students` names another class for it" },
  merge: { role: 'quantize', what: 'slerp merges' },
  evaluate: { role: 'eval', what: "the students' benchmarks" },
} as const satisfies Record<string, { role: Exclude<QueueRole, 'cpu'>; what: string }>;
export type Route = keyof typeof ROUTES;

const className = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes');

export const Resources = z
  .strictObject({
    classes: z.record(className, ResourceClass).default({}),
    ...(Object.fromEntries(Object.entries(ROUTES).map(([route, { role, what }]) => [route, className.optional().describe(`class for ${what}: a pool of ${role} workers`)])) as Record<Route, z.ZodOptional<typeof className>>),
    students: z.record(z.string(), className).default({}).describe('student name -> class for its fine-tuning, overriding `sft`'),
  })
  .prefault({})
  .describe('worker pools and which work goes to which: scheduling only, so in no stage key');
export type Resources = z.infer<typeof Resources>;
