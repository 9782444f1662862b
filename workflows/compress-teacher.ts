// Stage 1: FP8-compress the teacher, then check the report's claim on a dev set: FP8 keeps
// BF16 quality (chrF++ within `max_chrf_drop`) and record both throughputs.
import type { CompressTeacherOutput } from '../contracts/gpu-activities';
import { cpuActivities, gpuActivities } from './activity-proxies';
import { promptFor, runStage, type StageContext, type StageOutcome } from './stage';

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
      const cpu = cpuActivities(recipe);
      const gpu = gpuActivities(recipe);
      const compressed = await gpu.compress_teacher({
        stage_key,
        output_prefix: `${output_prefix}/fp8`,
        model: recipe.inputs.teacher,
        scheme: knobs.scheme,
        ignore: knobs.ignore,
      });

      const dev = await cpu.prepareTranslationDev({
        stage_key,
        output_prefix: `${output_prefix}/dev`,
        dev: recipe.inputs.translation_dev,
        language: recipe.language,
        rows: knobs.check_rows,
      });
      const translateWith = (model: string, name: string) =>
        gpu.translate_shard({
          stage_key,
          output_prefix: `${output_prefix}/check-${name}`,
          model,
          shard: dev.segments,
          engine: generation.engine,
          batch_size: generation.batch_size,
          max_new_tokens: generation.max_new_tokens,
          prompt_template: promptFor(generation.prompt_template, recipe.language.target_name),
        });
      // Sequential on purpose: the two throughputs are only comparable on an otherwise idle queue.
      const bf16 = await translateWith(recipe.inputs.teacher, 'bf16');
      const fp8 = await translateWith(compressed.model.uri, 'fp8');
      const score = (name: string, hypotheses: typeof bf16.translations) =>
        gpu.score_translation({
          stage_key,
          output_prefix: `${output_prefix}/score-${name}`,
          hypotheses,
          references: dev.references,
          tokenize: recipe.stages.evaluate.bleu_tokenize,
        });
      const [bf16Score, fp8Score] = await Promise.all([score('bf16', bf16.translations), score('fp8', fp8.translations)]);

      const check: TeacherCheck = {
        bf16: { bleu: bf16Score.bleu, chrf: bf16Score.chrf, tokens_per_second: bf16.tokens_per_second },
        fp8: { bleu: fp8Score.bleu, chrf: fp8Score.chrf, tokens_per_second: fp8.tokens_per_second },
        chrf_drop: bf16Score.chrf - fp8Score.chrf,
        speedup: bf16.tokens_per_second > 0 ? fp8.tokens_per_second / bf16.tokens_per_second : 0,
        passed: bf16Score.chrf - fp8Score.chrf <= knobs.max_chrf_drop,
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
      };
    },
  );
}
