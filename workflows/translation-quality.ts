// How well a model translates the held-out pairs: the same greedy prompt as production, scored
// with BLEU and chrF++. Shared by the teacher's FP8 check and the translator's evaluation.
import type { ArtifactRef } from '../contracts/artifact';
import type { ActivitySummary } from '../contracts/lineage';
import type { GenerationKnobs, Language, Recipe } from '../contracts/recipe';
import { summarizeRuns } from './activity-summaries';
import { promptFor } from './prompt';
import type { StageIo } from './stages/declaration';

export interface TranslationQuality {
  bleu: number;
  chrf: number;
  tokens_per_second: number;
  rows: number;
  tokenize: string;
  /**
   * Dev rows the engine raised on alone (quarantined, gpu-runners/hala_runners/runners/quarantine.py).
   * They are scored as empty hypotheses, not dropped: the score counts what the model could not
   * translate, and two models measured on one dev set are still compared on the same rows.
   */
  quarantined_rows: number;
  /** The translate and score activities of this measurement, for the stage's lineage. */
  activities: ActivitySummary[];
}

export interface DevSet {
  segments: ArtifactRef;
  references: ArtifactRef;
}

/** What measuring reads of the recipe: the dev set, how to translate it, how to score it. */
export interface MeasureKnobs {
  dev: string;
  rows: number;
  language: Pick<Language, 'source' | 'target' | 'target_name'>;
  /** Without the fan-outs' `max_error_rate`: a quarantined dev row scores as an empty hypothesis, whatever the bound. */
  generation: Omit<GenerationKnobs, 'max_error_rate'>;
  bleu_tokenize: Recipe['scoring']['bleu_tokenize'];
}

/** The generation knobs a measurement reads (and so keys on). */
export const measuredGeneration = ({ max_error_rate: _bound, ...knobs }: GenerationKnobs): MeasureKnobs['generation'] => knobs;

export async function prepareDevSet(io: StageIo, knobs: MeasureKnobs): Promise<DevSet> {
  const { source, target } = knobs.language;
  return io.cpu.prepareTranslationDev({
    stage_key: io.stage_key,
    output_prefix: `${io.output_prefix}/dev`,
    dev: knobs.dev,
    language: { source, target },
    rows: knobs.rows,
  });
}

/** Translate the dev set with `model`, then score it; outputs go under `<output_prefix>/<name>`. */
export async function measureTranslation(io: StageIo, knobs: MeasureKnobs, dev: DevSet, model: string, name: string): Promise<TranslationQuality> {
  const { generation } = knobs;
  const translated = await io.gpu.translate_shard({
    stage_key: io.stage_key,
    output_prefix: `${io.output_prefix}/${name}`,
    model,
    shard: dev.segments,
    engine: generation.engine,
    batch_size: generation.batch_size,
    max_new_tokens: generation.max_new_tokens,
    tensor_parallel_size: generation.tensor_parallel_size,
    prompt_template: promptFor(generation.prompt_template, knobs.language.target_name),
  });
  const score = await io.gpu.score_translation({
    stage_key: io.stage_key,
    output_prefix: `${io.output_prefix}/${name}-score`,
    hypotheses: translated.translations,
    references: dev.references,
    tokenize: knobs.bleu_tokenize,
  });
  return {
    bleu: score.bleu,
    chrf: score.chrf,
    tokens_per_second: translated.tokens_per_second,
    rows: score.rows,
    tokenize: score.tokenize,
    quarantined_rows: translated.quarantined_rows ?? 0,
    activities: summarizeRuns([translated, score]),
  };
}
