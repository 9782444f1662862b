// The SFT knobs, read by train_translator and by each student of sft (TRL SFTConfig fields of the same names).
import { z } from 'zod';
import { fraction, positiveInt } from '../numbers';
import { SourceUri } from '../artifact';

/** Supervised fine-tuning knobs (TRL SFTConfig fields of the same names). */
export const TrainKnobs = z.strictObject({
  base: SourceUri.describe('model to fine-tune, e.g. hf://LiquidAI/LFM2-1.2B'),
  learning_rate: z.number().positive().default(2e-5).describe('peak learning rate'),
  epochs: z.number().positive().default(1).describe('passes over the training set'),
  per_device_batch_size: positiveInt().default(8).describe('sequences per step per device'),
  gradient_accumulation_steps: positiveInt().default(1),
  max_seq_len: positiveInt().default(2048).describe('tokens; longer conversations are truncated'),
  warmup_ratio: fraction().default(0.03),
  weight_decay: z.number().min(0).default(0),
  lr_scheduler: z.enum(['cosine', 'linear', 'constant']).default('cosine'),
  save_every_steps: positiveInt().default(500).describe('checkpoint interval in optimizer steps'),
  dtype: z.enum(['bfloat16', 'float32']).default('bfloat16'),
  gpus: positiveInt()
    .default(1)
    .describe(
      'training processes on one node, one per GPU (on a CPU-only worker, CPU processes over gloo), launched with accelerate; ' +
        '1 = a single process, no launcher. Each process takes per_device_batch_size sequences a step: the effective batch is ' +
        'gpus x per_device_batch_size x gradient_accumulation_steps',
    ),
  // Optional, not defaulted: absent, a recipe's stage keys stay what they were before the knob existed.
  cpu_threads: positiveInt()
    .optional()
    .describe(
      'intra-op threads of each training process when it runs on CPU (the local stack; ignored on GPUs); absent, what ' +
        'OMP_NUM_THREADS says (the local stack: 1, since its workers share the cores). Set it for a run that has the ' +
        'cores to itself: the same rows in the same order, summed by more threads (float sums differ in their last bits)',
    ),
  strategy: z
    .enum(['ddp', 'fsdp'])
    .default('ddp')
    .describe(
      'how the gpus processes share the model (ignored when gpus is 1): ddp = a full copy on each, gradients averaged; ' +
        'fsdp = parameters, gradients and optimizer state sharded across them (FSDP2), for models one GPU cannot hold; ' +
        'GPUs only (a CPU-only worker refuses it). ' +
        'deepspeed is not offered: the train image does not ship it',
    ),
});

export const Student = TrainKnobs.extend({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
});

export type TrainKnobs = z.infer<typeof TrainKnobs>;
export type Student = z.infer<typeof Student>;
