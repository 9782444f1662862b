// Stage 1: FP8-compress the teacher, then measure the report's claim on a dev set: FP8 keeps BF16
// quality (its chrF++ drop, `chrf_drop`, which the recipe's checks judge), and record both throughputs.
import { classOf } from '../../contracts/placement';
import type { CompressTeacherOutput } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { combineActivities, summarizeRuns } from '../activity-summaries';
import { measureTranslation, measuredGeneration, prepareDevSet, type MeasureKnobs } from '../translation-quality';
import { single, type StageDeclaration } from './declaration';
import { dataset, model } from './sources';
import { modelName } from '../stage-story';
import { mul, paramsText, sum } from './estimate-context';

export interface CompressTeacherSlice {
  teacher: string;
  compress: Omit<Recipe['stages']['compress_teacher'], 'check_rows' | 'max_chrf_drop'>;
  /** The dev set translated by both teachers with the generation settings the teacher works with. */
  check: MeasureKnobs;
}

export interface TeacherCheck {
  bf16: { bleu: number; chrf: number; tokens_per_second: number };
  fp8: { bleu: number; chrf: number; tokens_per_second: number };
  /** BF16 minus FP8 chrF++: what a recipe check after compress-teacher bounds (contracts/checks.ts). */
  chrf_drop: number;
  /** FP8 over BF16 tokens per second; null when either generated nothing this attempt. */
  speedup: number | null;
}
export interface CompressTeacherResult {
  compressed: CompressTeacherOutput;
  check: TeacherCheck;
}

export const compressTeacherStage: StageDeclaration<CompressTeacherSlice, Record<string, never>, CompressTeacherResult> = {
  ...single('compress-teacher'),
  slice: (r) => {
    const { check_rows, max_chrf_drop: _moved, ...compress } = r.stages.compress_teacher;
    const { source, target, target_name } = r.language;
    return {
      teacher: r.inputs.teacher,
      compress,
      check: { dev: r.inputs.translation_dev, rows: check_rows, language: { source, target, target_name }, generation: measuredGeneration(r.generation.teacher), bleu_tokenize: r.scoring.bleu_tokenize },
    };
  },
  inputs: (s) => [model(s.teacher, 'inputs.teacher'), dataset(s.check.dev, 'inputs.translation_dev')],
  model: (r) => r.inputs.teacher,
  estimate: (x, r) => {
    const b = x.params(r.inputs.teacher);
    return {
      reads: `the ${paramsText(b)} teacher in BF16`,
      unit: 'weights',
      artifact_gb: b, // FP8: one byte a parameter
      gpu_hours: sum(x.weightsPass(mul(b, 3), x.pool('compress')), x.generate(r.stages.compress_teacher.check_rows * 2 * x.e.tokens.segment, 'teacher')),
      route: 'compress',
    };
  },
  headline: ['bf16_chrf', 'fp8_chrf', 'fp8_speedup', 'quantized_linear_layers'],
  describe: (r) => {
    const c = r.stages.compress_teacher;
    return {
      summary: `compress-teacher — ${modelName(r.inputs.teacher)} to ${c.scheme} (${c.method}), checked on ${c.check_rows} dev pairs`,
      facts: [
        ['teacher', r.inputs.teacher],
        ['scheme', c.scheme],
        ['method', c.method],
        ['left in bf16', c.ignore.join(', ') || 'nothing'],
        ['check', `chrF++ of FP8 against BF16 on ${c.check_rows} pairs of ${r.inputs.translation_dev}`],
      ],
    };
  },
  placement: ({ resources }) => ({ quantize: classOf(resources, 'compress'), infer: classOf(resources, 'teacher'), eval: classOf(resources, 'score') }),
  async work(io, s) {
    const compressed = await io.gpu.compress_teacher({
      stage_key: io.stage_key,
      output_prefix: `${io.output_prefix}/fp8`,
      model: s.teacher,
      scheme: s.compress.scheme,
      ignore: s.compress.ignore,
      method: s.compress.method,
    });
    const dev = await prepareDevSet(io, s.check);
    // One after the other on purpose: throughputs compare only on an otherwise idle queue.
    const bf16 = await measureTranslation(io, s.check, dev, s.teacher, 'check-bf16');
    const fp8 = await measureTranslation(io, s.check, dev, compressed.model.uri, 'check-fp8');
    const chrf_drop = bf16.chrf - fp8.chrf;
    const check: TeacherCheck = {
      bf16: { bleu: bf16.bleu, chrf: bf16.chrf, tokens_per_second: bf16.tokens_per_second },
      fp8: { bleu: fp8.bleu, chrf: fp8.chrf, tokens_per_second: fp8.tokens_per_second },
      chrf_drop,
      // Unknown when a measurement generated nothing this attempt (every chunk taken from an earlier one).
      speedup: bf16.tokens_per_second > 0 && fp8.tokens_per_second > 0 ? fp8.tokens_per_second / bf16.tokens_per_second : null,
    };
    const { run: _run, ...compressedOutput } = compressed;
    return {
      output: { compressed: compressedOutput, check },
      artifacts: [compressed.model],
      metrics: {
        bf16_chrf: check.bf16.chrf,
        fp8_chrf: check.fp8.chrf,
        bf16_bleu: check.bf16.bleu,
        fp8_bleu: check.fp8.bleu,
        chrf_drop: check.chrf_drop,
        ...(check.speedup !== null ? { fp8_speedup: check.speedup } : {}),
        quantized_linear_layers: compressed.quantized_linear_layers,
      },
      activities: combineActivities(summarizeRuns([compressed]), bf16.activities, fp8.activities),
    };
  },
};
