// Stage 5: the fine-tuned translator turns every English instruction set into the target language,
// the bulk of the campaign's compute, fanned out per set over shards.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { ConcatConversationsOutput, Decontamination, OutputLanguageCheck, PrepareSegmentsInput } from '../../contracts/cpu-activities';
import type { GenerationKnobs, Recipe } from '../../contracts/recipe';
import { combineActivities } from '../activity-summaries';
import { promptFor } from '../prompt';
import { single, type StageDeclaration } from './declaration';
import { dataset } from './sources';
import { decontaminatedMetrics, decontaminationSlice, evalSetInputs } from './eval-sets';
import { languageModelInputs, outputLanguageSlice } from './language-id';
import { ceilDiv, minOf, mul, round, sumAll } from './estimate-context';

export interface TranslateInstructionsSlice {
  sets: Recipe['inputs']['instruction_sets'];
  segments: Recipe['stages']['translate_instructions'];
  generation: GenerationKnobs;
  target_name: string;
  /** The evaluation sets every conversation is checked against, in English and translated; null: no check. */
  decontamination: Decontamination | null;
  /** Every translated turn checked for the target language; null: no check. */
  language_id: OutputLanguageCheck | null;
}

export const translateInstructionsStage: StageDeclaration<TranslateInstructionsSlice, { translator: ArtifactRef }, ConcatConversationsOutput> = {
  ...single('translate-instructions'),
  slice: (r) => ({
    sets: r.inputs.instruction_sets,
    segments: r.stages.translate_instructions,
    generation: r.generation.translator,
    target_name: r.language.target_name,
    decontamination: decontaminationSlice(r),
    language_id: outputLanguageSlice(r),
  }),
  inputs: (s, up) => [
    up.translator.sha256,
    ...s.sets.map((set, k) => dataset(set.uri, `inputs.instruction_sets[${k}].uri`)),
    ...evalSetInputs(s.decontamination),
    ...languageModelInputs(s.language_id ?? null),
  ],
  model: (r) => r.stages.train_translator.base,
  estimate: (x, r) => {
    const sets = r.inputs.instruction_sets.map((set) => {
      const conversations = mul(minOf(x.rows(set.name), set.max_rows), x.kept(set.name));
      return { conversations, segments: mul(conversations, x.e.segments_per_conversation) };
    });
    const samples = sumAll(sets.map((s) => s.conversations));
    const segments = sumAll(sets.map((s) => s.segments));
    return {
      reads: `${r.inputs.instruction_sets.length} instruction sets by the translator`,
      rows_in: round(samples),
      rows_out: round(samples),
      unit: 'conversations',
      shards: sumAll(sets.map((s) => ceilDiv(s.segments, r.stages.translate_instructions.shard_rows))),
      artifact_gb: x.segmentGb(segments, 1),
      gpu_hours: x.generate(mul(segments, x.e.tokens.segment), 'translator'),
      route: 'translator',
      figures: { conversations: samples },
      headline: { translated_samples: round(samples) },
    };
  },
  headline: ['conversations', 'generated_rows', 'cached_rows'],
  describe: (r) => ({
    summary: `translate-instructions — the translator turns ${r.inputs.instruction_sets.map((s) => s.name).join(', ')} into ${r.language.target_name}`,
    facts: [
      ...r.inputs.instruction_sets.map((s): [string, string] => [s.name, `${s.uri} (${s.format}${s.max_rows ? `, ${s.max_rows} rows` : ''})`]),
      ['segments per shard', r.stages.translate_instructions.shard_rows],
      ['translator batch', r.generation.translator.batch_size],
    ],
  }),
  placement: ({ resources }) => ({ infer: classOf(resources, 'translator') }),
  async work(io, s, up) {
    const { prompt_template, ...engine } = s.generation;
    const prompt = promptFor(prompt_template, s.target_name);
    const perSet = await Promise.all(
      s.sets.map(async (set) => {
        const prefix = `${io.output_prefix}/${set.name}`;
        const segments = await io.cpu.prepareSegments({
          stage_key: io.stage_key,
          output_prefix: `${prefix}/segments`,
          ...segmentsRequest(set, s.segments),
        });
        const translated = await io.translate(
          {
            output_prefix: `${prefix}/translations`,
            model: up.translator.uri,
            shard_list: segments.shard_list,
            shard_count: segments.shard_count,
            generation: engine,
            prompt_template: prompt,
            error_rate_field: 'generation.translator.max_error_rate',
            // Rows this translator already translated with this prompt (any stage, any shard size) are not sent again.
            cache: { model_sha256: up.translator.sha256, shard_rows: s.segments.shard_rows },
          },
          set.name,
        );
        const assembled = await io.cpu.assembleConversations({
          stage_key: io.stage_key,
          output_prefix: `${prefix}/conversations`,
          rows: segments.rows,
          translation_lists: translated.translation_lists,
          ...(s.decontamination ? { decontamination: s.decontamination } : {}),
          ...(s.language_id ? { language_id: s.language_id } : {}),
        });
        return { set: set.name, segments, translated, assembled };
      }),
    );
    const merged = await io.cpu.concatConversations({
      stage_key: io.stage_key,
      output_prefix: `${io.output_prefix}/corpus`,
      parts: perSet.map((p) => p.assembled.dataset),
    });
    const metrics: Record<string, number> = { conversations: merged.conversations };
    for (const p of perSet) {
      metrics[`${p.set}_rows`] = p.segments.row_count;
      metrics[`${p.set}_segments`] = p.translated.rows + p.translated.cached_rows + p.translated.duplicate_rows;
      metrics[`${p.set}_cached_rows`] = p.translated.cached_rows;
      metrics[`${p.set}_duplicate_rows`] = p.translated.duplicate_rows;
      metrics[`${p.set}_generated_rows`] = p.translated.rows;
      metrics[`${p.set}_missing`] = p.assembled.missing_translations;
      // Shown only when the engine raised on rows alone (under generation.translator.max_error_rate).
      if (p.translated.quarantined_rows) metrics[`${p.set}_quarantined_rows`] = p.translated.quarantined_rows;
      for (const [reason, n] of Object.entries(p.segments.quarantined)) metrics[`${p.set}_quarantined_${reason}`] = n;
      if (s.decontamination) Object.assign(metrics, decontaminatedMetrics(p.assembled.decontaminated ?? {}, `${p.set}_`));
      if (s.language_id) metrics[`${p.set}_wrong_language`] = p.assembled.wrong_language ?? 0;
    }
    if (s.decontamination) metrics.decontaminated = perSet.reduce((n, p) => n + (metrics[`${p.set}_decontaminated`] ?? 0), 0);
    if (s.language_id) metrics.wrong_language = perSet.reduce((n, p) => n + (p.assembled.wrong_language ?? 0), 0);
    // Shown only when memory ran out: engine batches halved, over every shard of every set.
    metrics.generated_rows = perSet.reduce((n, p) => n + p.translated.rows, 0);
    metrics.cached_rows = perSet.reduce((n, p) => n + p.translated.cached_rows, 0);
    const halvings = perSet.reduce((n, p) => n + p.translated.oom_halvings, 0);
    if (halvings > 0) metrics.oom_halvings = halvings;
    const activities = combineActivities(...perSet.map((p) => p.translated.activities));
    // The first quarantine files of each set (id, text, error, attempts), beside the corpus in lineage.
    return { output: merged, artifacts: [merged.dataset, ...perSet.flatMap((p) => p.translated.quarantine ?? [])], metrics, activities };
  },
};

/**
 * How one instruction set is read and cut into segments: every knob of the set and of the stage
 * that prepareSegments reads (the readers' tests hand the recipe's sets to the real activity this way).
 */
export function segmentsRequest(
  set: TranslateInstructionsSlice['sets'][number],
  segments: TranslateInstructionsSlice['segments'],
): Omit<PrepareSegmentsInput, 'stage_key' | 'output_prefix'> {
  return {
    source: set.uri,
    format: set.format,
    columns: set.columns,
    turns_column: set.turns_column,
    exclude_sources: set.exclude_sources,
    max_rows: set.max_rows,
    translate_responses: true,
    drop_code: set.drop_code,
    max_segment_chars: segments.max_segment_chars,
    shard_rows: segments.shard_rows,
  };
}
