// Stage 1: FP8-compress the teacher, then check the report's claim on a dev set: FP8 keeps
// BF16 quality (chrF++ within `max_chrf_drop`) and record both throughputs.
import type { CompressTeacherOutput } from '../contracts/gpu-activities';
import { gpuActivities } from './activity-proxies';
import { combineActivities, runStage, summarizeRuns, type StageContext, type StageOutcome } from './stage';
import { measureTranslation, prepareDevSet } from './translation-quality';

export interface TeacherCheck {
  bf16: { bleu: number; chrf: number; tokens_per_second: number };
  fp8: { bleu: number; chrf: number; tokens_per_second: number };
  chrf_drop: number;
  speedup: number;
  passed: boolean;
}
export interface CompressTeacherResult {
  compressed: CompressTeacherOutput;
  check: TeacherCheck;
}

export async function compressTeacher(ctx: StageContext): Promise<StageOutcome<CompressTeacherResult>> {
  const { recipe } = ctx;
  const knobs = recipe.stages.compress_teacher;
  const generation = recipe.stages.build_bilingual_corpus.generation;
  return runStage(
    ctx,
    {
      stage: 'compress-teacher',
      config: { knobs, generation, language: recipe.language },
      inputs: [recipe.inputs.teacher, recipe.inputs.translation_dev],
    },
    async ({ stage_key, output_prefix }) => {
      const compressed = await gpuActivities(recipe).compress_teacher({
        stage_key,
        output_prefix: `${output_prefix}/fp8`,
        model: recipe.inputs.teacher,
        scheme: knobs.scheme,
        ignore: knobs.ignore,
      });

      const dev = await prepareDevSet(recipe, stage_key, output_prefix, knobs.check_rows);
      // One after the other on purpose: throughputs compare only on an otherwise idle queue.
      const bf16 = await measureTranslation(recipe, { stage_key, output_prefix }, dev, generation, recipe.inputs.teacher, 'check-bf16');
      const fp8 = await measureTranslation(recipe, { stage_key, output_prefix }, dev, generation, compressed.model.uri, 'check-fp8');

      const check: TeacherCheck = {
        bf16: { bleu: bf16.bleu, chrf: bf16.chrf, tokens_per_second: bf16.tokens_per_second },
        fp8: { bleu: fp8.bleu, chrf: fp8.chrf, tokens_per_second: fp8.tokens_per_second },
        chrf_drop: bf16.chrf - fp8.chrf,
        speedup: bf16.tokens_per_second > 0 ? fp8.tokens_per_second / bf16.tokens_per_second : 0,
        passed: bf16.chrf - fp8.chrf <= knobs.max_chrf_drop,
      };
      return {
        output: { compressed, check },
        artifacts: [compressed.model],
        metrics: {
          bf16_chrf: check.bf16.chrf,
          fp8_chrf: check.fp8.chrf,
          bf16_bleu: check.bf16.bleu,
          fp8_bleu: check.fp8.bleu,
          fp8_speedup: check.speedup,
          quantized_linear_layers: compressed.quantized_linear_layers,
        },
        activities: combineActivities(summarizeRuns([compressed]), bf16.activities, fp8.activities),
      };
    },
  );
}
