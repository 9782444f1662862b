// Translation quality of the fine-tuned translator against its untrained base, on held-out
// pairs, with the report's prompt and greedy decoding (BLEU and chrF++, sacrebleu `intl`).
import type { ArtifactRef } from '../contracts/artifact';
import { combineActivities, runStage, type StageContext, type StageOutcome } from './stage';
import { measureTranslation, prepareDevSet } from './translation-quality';

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
      const dev = await prepareDevSet(recipe, stage_key, output_prefix, knobs.translation_rows);
      const opened = { stage_key, output_prefix };
      const [before, after] = await Promise.all([
        measureTranslation(recipe, opened, dev, generation, base, 'base'),
        measureTranslation(recipe, opened, dev, generation, translator.uri, 'tuned'),
      ]);
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
        activities: combineActivities(before.activities, after.activities),
      };
    },
  );
}
