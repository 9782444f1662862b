// Stage 5: the fine-tuned translator turns every English instruction set into the target
// language — the bulk of the campaign's compute, fanned out per set over shards.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifact';
import type { ConcatConversationsOutput } from '../activities/cpu-api';
import { cpuActivities } from './activity-proxies';
import { combineActivities, promptFor, runStage, type StageContext, type StageOutcome } from './stage';
import { shardsToTranslate, translateCorpus, translatedShards } from './translate-corpus';

export interface TranslateInstructionsInput {
  ctx: StageContext;
  translator: ArtifactRef;
}

export async function translateInstructions(
  input: TranslateInstructionsInput,
): Promise<StageOutcome<ConcatConversationsOutput>> {
  const { ctx, translator } = input;
  const { recipe } = ctx;
  const knobs = recipe.stages.translate_instructions;
  const sets = recipe.inputs.instruction_sets;
  return runStage(
    ctx,
    {
      stage: 'translate-instructions',
      config: { knobs, sets, language: recipe.language },
      inputs: [translator.sha256, ...sets.map((s) => s.uri)],
    },
    async ({ stage_key, output_prefix }) => {
      const cpu = cpuActivities(recipe);
      const prompt = promptFor(knobs.generation.prompt_template, recipe.language.target_name);
      const perSet = await Promise.all(
        sets.map(async (set) => {
          const prefix = `${output_prefix}/${set.name}`;
          const segments = await cpu.prepareSegments({
            stage_key,
            output_prefix: `${prefix}/segments`,
            source: set.uri,
            format: set.format,
            columns: set.columns,
            max_rows: set.max_rows,
            translate_responses: true,
            drop_code: set.drop_code,
            max_segment_chars: knobs.max_segment_chars,
            shard_rows: knobs.shard_rows,
          });
          const translated = await executeChild(translateCorpus, {
            workflowId: `${workflowInfo().workflowId}/translate-${set.name}`,
            args: [
              {
                recipe,
                stage_key,
                output_prefix: `${prefix}/translations`,
                model: translator.uri,
                ...shardsToTranslate(segments),
                generation: knobs.generation,
                prompt_template: prompt,
                window: knobs.window,
                shards_per_run: knobs.shards_per_run,
              },
            ],
          });
          const assembled = await cpu.assembleConversations({
            stage_key,
            output_prefix: `${prefix}/conversations`,
            rows: segments.rows,
            translations: translatedShards(translated).inline,
            translation_lists: translatedShards(translated).lists,
          });
          return { set: set.name, segments, translated, assembled };
        }),
      );
      const merged = await cpu.concatConversations({
        stage_key,
        output_prefix: `${output_prefix}/corpus`,
        parts: perSet.map((p) => p.assembled.dataset),
      });
      const metrics: Record<string, number> = { conversations: merged.conversations };
      for (const p of perSet) {
        metrics[`${p.set}_rows`] = p.segments.row_count;
        metrics[`${p.set}_segments`] = p.translated.rows;
        metrics[`${p.set}_missing`] = p.assembled.missing_translations;
        for (const [reason, n] of Object.entries(p.segments.quarantined)) metrics[`${p.set}_quarantined_${reason}`] = n;
      }
      const activities = combineActivities(...perSet.map((p) => p.translated.activities));
      return { output: merged, artifacts: [merged.dataset], metrics, activities };
    },
  );
}
