// Stage 4: fine-tune the translator base on the bilingual corpus.
import type { ArtifactRef } from '../contracts/artifact';
import type { TrainKnobs } from '../contracts/recipe';
import type { TrainSftOutput } from '../contracts/gpu-activities';
import { gpuActivities } from './activity-proxies';
import { runStage, summarizeRuns, type StageContext, type StageOutcome, type StageWork } from './stage';

export interface TrainTranslatorInput {
  ctx: StageContext;
  corpus: ArtifactRef;
}

export async function trainTranslator(input: TrainTranslatorInput): Promise<StageOutcome<TrainSftOutput>> {
  const { ctx, corpus } = input;
  const knobs = ctx.recipe.stages.train_translator;
  return runStage(
    ctx,
    { stage: 'train-translator', config: { knobs, seed: ctx.recipe.seed }, inputs: [corpus.sha256, knobs.base] },
    (opened) => trainOn(ctx, opened, corpus, knobs),
  );
}

/** Supervised fine-tuning on the train queue: the work of the translator and of every student. */
export async function trainOn(
  ctx: StageContext,
  opened: { stage_key: string; output_prefix: string },
  dataset: ArtifactRef,
  knobs: TrainKnobs,
): Promise<StageWork<TrainSftOutput>> {
  const out = await gpuActivities(ctx.recipe).train_sft({ stage_key: opened.stage_key, output_prefix: opened.output_prefix, dataset, seed: ctx.recipe.seed, knobs });
  return {
    output: out,
    artifacts: [out.model],
    metrics: { steps: out.steps, final_loss: out.final_loss, resumed_from_step: out.resumed_from_step },
    activities: summarizeRuns([out]),
  };
}
