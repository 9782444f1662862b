// Stage 2: filter OPUS-100 pairs; every filter reports how many pairs it removed.
import type { FilterOpusOutput } from '../contracts/cpu-activities';
import { cpuActivities } from './activity-proxies';
import { runStage, type StageContext, type StageOutcome } from './stage';

export async function filterOpus(ctx: StageContext): Promise<StageOutcome<FilterOpusOutput>> {
  const { recipe } = ctx;
  const filters = recipe.stages.filter_opus;
  return runStage(
    ctx,
    { stage: 'filter-opus', config: { filters, language: recipe.language }, inputs: [recipe.inputs.opus] },
    async ({ stage_key, output_prefix }) => {
      const out = await cpuActivities(recipe).filterOpus({
        stage_key,
        output_prefix,
        opus: recipe.inputs.opus,
        language: recipe.language,
        filters,
      });
      return { output: out, artifacts: [out.pairs], metrics: { ...out.counts } };
    },
  );
}
