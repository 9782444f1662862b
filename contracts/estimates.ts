/**
 * What `hala plan` needs to size a campaign before it spends anything: how many rows each input has,
 * how much of it the filters keep, how big the models are and how fast the pools go. Read by the
 * plan only — no stage reads it, so it is in no stage key, and a wrong figure changes no output.
 */
import { z } from 'zod';
import { fraction } from './numbers';

const positive = () => z.number().positive();

export const Estimates = z
  .strictObject({
    rows: z
      .record(z.string(), z.number().int().nonnegative())
      .default({})
      .describe('rows of each input: opus, open_orca, translation_dev, then each instruction set and benchmark by its name'),
    kept: z
      .record(z.string(), fraction())
      .default({})
      .describe("share of an input's rows its stage keeps (default 1): filter_opus (filters and dedup), an instruction set by name (drop_code, subsets)"),
    params_b: z.record(z.string(), positive()).default({}).describe('billions of parameters of each model, by its uri: weights sizes and FLOPs'),
    tokens: z
      .strictObject({
        segment: positive().default(120).describe('mean tokens of a translated segment (a prompt or a response)'),
        conversation: positive().default(600).describe('mean tokens of an SFT conversation (capped at max_seq_len)'),
        benchmark_row: positive().default(250).describe('mean tokens scored per benchmark row, all choices together'),
      })
      .prefault({}),
    segments_per_conversation: positive().default(2).describe('segments an instruction-set row is cut into (its turns)'),
    generate_tokens_per_gpu_s: z
      .strictObject({
        teacher: positive().default(400).describe('output tokens per second per GPU of the teacher, whole batches'),
        translator: positive().default(15000).describe('output tokens per second per GPU of the translator and its base'),
      })
      .prefault({}),
    train_mfu: fraction().default(0.35).describe('model FLOPs utilisation of training and scoring: 6 x params x tokens FLOPs to train, 2 x to score'),
    gpu_tflops: z.record(z.string(), positive()).default({}).describe('peak dense bf16 TFLOPs of each gpu_type of resources.classes (H100-80GB: 989)'),
    weights_gb_per_s: positive().default(1).describe('weights read plus written per second by a worker of compress and merge'),
    cpu_pairs_per_s: positive().default(50000).describe('pairs per second of the CPU filter stage (bench/ measures it)'),
  })
  .prefault({})
  .describe('figures for hala plan only: sizes, keep rates, throughputs; in no stage key');
export type Estimates = z.infer<typeof Estimates>;
