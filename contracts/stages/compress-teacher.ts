// stages.compress_teacher: the teacher quantized to FP8, then checked against its BF16 self.
import { z } from 'zod';
import { positiveInt } from '../numbers';

/**
 * How compress_teacher quantizes; the runner resolves `auto` (gpu-runners/hala_runners/runners/
 * compress_method.py has the formula). Both paths write the same FP8 compressed-tensors checkpoint.
 */
export const CompressMethod = z.enum(['auto', 'oneshot', 'model_free']);

export const CompressTeacherKnobs = z
  .strictObject({
    scheme: z.enum(['FP8_DYNAMIC']).default('FP8_DYNAMIC'),
    ignore: z.array(z.string()).default(['lm_head']).describe('modules left in bf16; embeddings are never Linear'),
    method: CompressMethod.default('auto').describe(
      'oneshot = llm-compressor oneshot on the loaded model; model_free = model_free_ptq, safetensors shard by shard ' +
        "(for a teacher the quantize worker cannot hold); auto = model_free when the teacher's safetensors exceed " +
        "0.8 x the worker's total GPU memory (available RAM without CUDA; HALA_COMPRESS_MEMORY_BYTES on the worker " +
        'overrides), else oneshot',
    ),
    check_rows: positiveInt().default(64).describe('dev pairs translated by BF16 and FP8 teachers'),
    // The bound lives in one place, the recipe's checks, and in no stage key: a rerun with another bound reuses the teacher.
    max_chrf_drop: z
      .unknown()
      .refine((v) => v === undefined, "moved to the recipe's checks: declare { name: fp8-parity, after: compress-teacher, metric: chrf_drop, at_most: <points>, action: choose } (or hold, fail)")
      .optional()
      .describe('moved to `checks` (metric chrf_drop of compress-teacher)'),
  })
  .prefault({});
