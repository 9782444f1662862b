// Translation quality of the fine-tuned translator against its untrained base, on held-out
// pairs, with the report's prompt and greedy decoding (BLEU and chrF++, sacrebleu `intl`).
import type { ArtifactRef } from '../contracts/artifact';
import { cpuActivities, gpuActivities } from './activity-proxies';
import { promptFor, runStage, type StageContext, type StageOutcome } from './stage';

export interface EvaluateTranslatorInput {
  ctx: StageContext;
  translator: ArtifactRef;
}
export interface TranslatorScores {
  base: { bleu: number; chrf: number };
  tuned: { bleu: number; chrf: number };
  tokenize: string;
  rows: number;
}

export async function evaluateTranslator(
  input: EvaluateTranslatorInput,
): Promise<StageOutcome<TranslatorScores>> {
  const { ctx, translator } = input;
  const { recipe } = ctx;
  const knobs = recipe.stages.evaluate;
  const generation = recipe.stages.translate_instructions.generation;
  const base = recipe.stages.train_translator.base;
  return runStage(
    ctx,
    {
      stage: 'evaluate-translator',
      config: { knobs, generation, language: recipe.language },
      inputs: [translator.sha256, base, recipe.inputs.translation_dev],
    },
    async ({ stage_key, output_prefix }) => {
      const cpu = cpuActivities(recipe);
      const gpu = gpuActivities(recipe);
      const dev = await cpu.prepareTranslationDev({
        stage_key,
        output_prefix: `${output_prefix}/dev`,
        dev: recipe.inputs.translation_dev,
        language: recipe.language,
        rows: knobs.translation_rows,
      });
      const measure = async (model: string, name: string) => {
        const translated = await gpu.translate_shard({
          stage_key,
          output_prefix: `${output_prefix}/${name}`,
          model,
          shard: dev.segments,
          engine: generation.engine,
          batch_size: generation.batch_size,
          max_new_tokens: generation.max_new_tokens,
          prompt_template: promptFor(generation.prompt_template, recipe.language.target_name),
        });
        return gpu.score_translation({
          stage_key,
          output_prefix: `${output_prefix}/${name}-score`,
          hypotheses: translated.translations,
          references: dev.references,
          tokenize: knobs.bleu_tokenize,
        });
      };
      const [before, after] = await Promise.all([measure(base, 'base'), measure(translator.uri, 'tuned')]);
      return {
        output: {
          base: { bleu: before.bleu, chrf: before.chrf },
          tuned: { bleu: after.bleu, chrf: after.chrf },
          tokenize: after.tokenize,
          rows: after.rows,
        },
        artifacts: [],
        metrics: {
          base_bleu: before.bleu,
          base_chrf: before.chrf,
          bleu: after.bleu,
          chrf: after.chrf,
          chrf_gain: after.chrf - before.chrf,
        },
      };
    },
  );
}
