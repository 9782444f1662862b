// Stage 3: the FP8 teacher translates Open-Orca; with the filtered OPUS pairs this is the
// bilingual corpus the translator learns from, in both directions.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifact';
import type { AssembleBilingualOutput } from '../contracts/cpu-activities';
import { cpuActivities } from './activity-proxies';
import { combineActivities, promptFor, runStage, type StageContext, type StageOutcome } from './stage';
import { shardsToTranslate, translateCorpus, translatedShards } from './translate-corpus';

export interface BuildBilingualCorpusInput {
  ctx: StageContext;
  teacher: ArtifactRef;
  opus_pairs: ArtifactRef;
}

export async function buildBilingualCorpus(
  input: BuildBilingualCorpusInput,
): Promise<StageOutcome<AssembleBilingualOutput>> {
  const { ctx, teacher, opus_pairs } = input;
  const { recipe } = ctx;
  const knobs = recipe.stages.build_bilingual_corpus;
  return runStage(
    ctx,
    {
      stage: 'build-bilingual-corpus',
      config: { knobs, language: recipe.language, seed: recipe.seed },
      inputs: [teacher.sha256, opus_pairs.sha256, recipe.inputs.open_orca],
    },
    async ({ stage_key, output_prefix }) => {
      const cpu = cpuActivities(recipe);
      const segments = await cpu.prepareSegments({
        stage_key,
        output_prefix: `${output_prefix}/segments`,
        source: recipe.inputs.open_orca,
        format: 'open_orca',
        max_rows: knobs.open_orca_rows,
        translate_responses: knobs.translate_responses,
        drop_code: false,
        max_segment_chars: knobs.max_segment_chars,
        shard_rows: knobs.shard_rows,
      });
      const prompt = promptFor(knobs.generation.prompt_template, recipe.language.target_name);
      const translated = await executeChild(translateCorpus, {
        workflowId: `${workflowInfo().workflowId}/translate`,
        args: [
          {
            recipe,
            stage_key,
            output_prefix: `${output_prefix}/translations`,
            model: teacher.uri,
            ...shardsToTranslate(segments),
            generation: knobs.generation,
            prompt_template: prompt,
            window: recipe.stages.translate_instructions.window,
            shards_per_run: recipe.stages.translate_instructions.shards_per_run,
          },
        ],
      });
      const corpus = await cpu.assembleBilingual({
        stage_key,
        output_prefix: `${output_prefix}/corpus`,
        opus_pairs,
        teacher_translations: translatedShards(translated).inline,
        teacher_translation_lists: translatedShards(translated).lists,
        language: recipe.language,
        both_directions: knobs.both_directions,
        prompt_template: knobs.generation.prompt_template,
        seed: recipe.seed,
      });
      return {
        output: corpus,
        artifacts: [corpus.dataset],
        metrics: {
          pairs: corpus.pairs,
          examples: corpus.examples,
          teacher_segments: translated.rows,
          teacher_untranslated: corpus.untranslated,
          teacher_tokens: translated.generated_tokens,
          ...Object.fromEntries(Object.entries(corpus.by_origin).map(([k, v]) => [`pairs_${k}`, v])),
        },
        // Through combineActivities: a child result from before the field has none.
        activities: combineActivities(translated.activities),
      };
    },
  );
}
