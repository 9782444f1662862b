// How well a model translates the held-out pairs: the same greedy prompt as production, scored
// with BLEU and chrF++. Shared by the teacher's FP8 check and the translator's evaluation.
import type { ArtifactRef } from '../contracts/artifact';
import type { ActivitySummary } from '../contracts/lineage';
import type { GenerationKnobs, Recipe } from '../contracts/recipe';
import { cpuActivities, gpuActivities } from './activity-proxies';
import { promptFor, summarizeRuns } from './stage';

export interface TranslationQuality {
  bleu: number;
  chrf: number;
  tokens_per_second: number;
  rows: number;
  tokenize: string;
  /** The translate and score activities of this measurement, for the stage's lineage. */
  activities: ActivitySummary[];
}

export interface DevSet {
  segments: ArtifactRef;
  references: ArtifactRef;
}

export async function prepareDevSet(recipe: Recipe, stage_key: string, output_prefix: string, rows: number): Promise<DevSet> {
  return cpuActivities(recipe).prepareTranslationDev({
    stage_key,
    output_prefix: `${output_prefix}/dev`,
    dev: recipe.inputs.translation_dev,
    language: recipe.language,
    rows,
  });
}

/** Translate the dev set with `model`, then score it; outputs go under `<output_prefix>/<name>`. */
export async function measureTranslation(
  recipe: Recipe,
  opened: { stage_key: string; output_prefix: string },
  dev: DevSet,
  generation: GenerationKnobs,
  model: string,
  name: string,
): Promise<TranslationQuality> {
  const gpu = gpuActivities(recipe);
  const translated = await gpu.translate_shard({
    stage_key: opened.stage_key,
    output_prefix: `${opened.output_prefix}/${name}`,
    model,
    shard: dev.segments,
    engine: generation.engine,
    batch_size: generation.batch_size,
    max_new_tokens: generation.max_new_tokens,
    prompt_template: promptFor(generation.prompt_template, recipe.language.target_name),
  });
  const score = await gpu.score_translation({
    stage_key: opened.stage_key,
    output_prefix: `${opened.output_prefix}/${name}-score`,
    hypotheses: translated.translations,
    references: dev.references,
    tokenize: recipe.stages.evaluate.bleu_tokenize,
  });
  return {
    bleu: score.bleu,
    chrf: score.chrf,
    tokens_per_second: translated.tokens_per_second,
    rows: score.rows,
    tokenize: score.tokenize,
    activities: summarizeRuns([translated, score]),
  };
}
