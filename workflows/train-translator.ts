// Stage 4: fine-tune the translator base on the bilingual corpus.
import type { ArtifactRef } from '../contracts/artifact';
import type { TrainSftOutput } from '../contracts/gpu-activities';
import { gpuActivities } from './activity-proxies';
import { runStage, type StageContext, type StageOutcome } from './stage';

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
    async ({ stage_key, output_prefix }) => {
      const out = await gpuActivities(ctx.recipe).train_sft({
        stage_key,
        output_prefix,
        dataset: corpus,
        seed: ctx.recipe.seed,
        knobs,
      });
      return {
        output: out,
        artifacts: [out.model],
        metrics: { steps: out.steps, final_loss: out.final_loss, resumed_from_step: out.resumed_from_step },
      };
    },
  );
}
