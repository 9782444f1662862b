// Stage 3: the FP8 teacher translates Open-Orca; with the filtered OPUS pairs this is the bilingual
// corpus the translator learns from, in both directions.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { AssembleBilingualOutput, Decontamination, OutputLanguageCheck } from '../../contracts/cpu-activities';
import type { GenerationKnobs, Language, Recipe } from '../../contracts/recipe';
import { combineActivities } from '../activity-summaries';
import { promptFor } from '../prompt';
import { single, type StageDeclaration } from './declaration';
import { dataset, model } from './sources';
import type { ModelInput } from '../checks';
import { decontaminatedMetrics, decontaminationSlice, evalSetInputs } from './eval-sets';
import { languageModelInputs, outputLanguageSlice } from './language-id';
import { ceilDiv, minOf, mul, round, sum } from './estimate-context';

export interface BuildBilingualCorpusSlice {
  open_orca: string;
  corpus: Recipe['stages']['build_bilingual_corpus'];
  /** The teacher's generation settings; its prompt also becomes the corpus's training prompt. */
  generation: GenerationKnobs;
  language: Pick<Language, 'source' | 'target' | 'source_name' | 'target_name'>;
  seed: number;
  /** The evaluation sets both sides of every pair are checked against; null: no check. */
  decontamination: Decontamination | null;
  /** The teacher's translations checked for the target language; null: no check. */
  language_id: OutputLanguageCheck | null;
}
export interface BuildBilingualCorpusUpstream {
  /** compress-teacher's FP8 artifact, or the recipe's BF16 teacher when a check chose it (workflows/checks.ts). */
  teacher: ModelInput;
  opus_pairs: ArtifactRef;
}

export const buildBilingualCorpusStage: StageDeclaration<BuildBilingualCorpusSlice, BuildBilingualCorpusUpstream, AssembleBilingualOutput> = {
  ...single('build-bilingual-corpus'),
  slice: (r) => {
    const { source, target, source_name, target_name } = r.language;
    return {
      open_orca: r.inputs.open_orca,
      corpus: r.stages.build_bilingual_corpus,
      generation: r.generation.teacher,
      language: { source, target, source_name, target_name },
      seed: r.seed,
      decontamination: decontaminationSlice(r),
      language_id: outputLanguageSlice(r),
    };
  },
  inputs: (s, up) => [
    'sha256' in up.teacher ? up.teacher.sha256 : model(up.teacher.uri, up.teacher.field),
    up.opus_pairs.sha256,
    dataset(s.open_orca, 'inputs.open_orca'),
    ...evalSetInputs(s.decontamination),
    ...languageModelInputs(s.language_id ?? null),
  ],
  model: (r) => r.inputs.teacher,
  estimate: (x, r, _i, up) => {
    const c = r.stages.build_bilingual_corpus;
    const orca = minOf(x.rows('open_orca'), c.open_orca_rows);
    const teacherSegments = mul(orca, c.translate_responses ? 2 : 1);
    const pairs = sum(up.opus_pairs.pairs, teacherSegments);
    const examples = mul(pairs, c.both_directions ? 2 : 1);
    return {
      reads: 'Open-Orca by the FP8 teacher, filtered OPUS',
      rows_in: orca,
      rows_out: round(pairs),
      unit: 'pairs',
      shards: ceilDiv(teacherSegments, c.shard_rows),
      artifact_gb: x.segmentGb(examples, 2),
      gpu_hours: x.generate(mul(teacherSegments, x.e.tokens.segment), 'teacher'),
      route: 'teacher',
      figures: { pairs, examples },
      headline: { bilingual_pairs: round(pairs) },
    };
  },
  headline: ['pairs', 'examples', 'teacher_segments', 'teacher_generated_rows', 'teacher_cached_rows'],
  describe: (r) => {
    const b = r.stages.build_bilingual_corpus;
    return {
      summary: `build-bilingual-corpus — the FP8 teacher translates ${b.open_orca_rows} Open-Orca rows to ${r.language.target_name}, joined with the filtered OPUS pairs`,
      facts: [
        ['Open-Orca', r.inputs.open_orca],
        ['responses translated', b.translate_responses],
        ['both directions', b.both_directions],
        ['segments per shard', b.shard_rows],
        ['teacher batch', r.generation.teacher.batch_size],
      ],
    };
  },
  placement: ({ resources }) => ({ infer: classOf(resources, 'teacher') }),
  async work(io, s, up) {
    const segments = await io.cpu.prepareSegments({
      stage_key: io.stage_key,
      output_prefix: `${io.output_prefix}/segments`,
      source: s.open_orca,
      format: 'open_orca',
      max_rows: s.corpus.open_orca_rows,
      translate_responses: s.corpus.translate_responses,
      drop_code: false,
      max_segment_chars: s.corpus.max_segment_chars,
      shard_rows: s.corpus.shard_rows,
    });
    const { prompt_template, ...engine } = s.generation;
    const translated = await io.translate({
      output_prefix: `${io.output_prefix}/translations`,
      model: up.teacher.uri,
      shard_list: segments.shard_list,
      shard_count: segments.shard_count,
      generation: engine,
      prompt_template: promptFor(prompt_template, s.language.target_name),
      error_rate_field: 'generation.teacher.max_error_rate',
      // Rows this teacher already translated with this prompt (any stage, any shard size) are not sent again.
      // The FP8 artifact's digest, or the BF16 source's where a check chose it (workflows/checks.ts).
      cache: { model_sha256: 'sha256' in up.teacher ? up.teacher.sha256 : io.sourceDigest(up.teacher.uri), shard_rows: s.corpus.shard_rows },
    });
    const corpus = await io.cpu.assembleBilingual({
      stage_key: io.stage_key,
      output_prefix: `${io.output_prefix}/corpus`,
      opus_pairs: up.opus_pairs,
      teacher_translation_lists: translated.translation_lists,
      language: s.language,
      both_directions: s.corpus.both_directions,
      prompt_template,
      seed: s.seed,
      ...(s.decontamination ? { decontamination: s.decontamination } : {}),
      ...(s.language_id ? { language_id: s.language_id } : {}),
    });
    return {
      output: corpus,
      artifacts: [corpus.dataset, ...(translated.quarantine ?? [])], // the first quarantine files, if any row failed alone
      metrics: {
        pairs: corpus.pairs,
        examples: corpus.examples,
        teacher_segments: translated.rows + translated.cached_rows + translated.duplicate_rows,
        teacher_cached_rows: translated.cached_rows,
        teacher_duplicate_rows: translated.duplicate_rows,
        teacher_generated_rows: translated.rows,
        teacher_untranslated: corpus.untranslated,
        teacher_tokens: translated.generated_tokens,
        ...(translated.oom_halvings > 0 ? { oom_halvings: translated.oom_halvings } : {}), // only when memory ran out
        // only when the engine raised on rows alone (under generation.teacher.max_error_rate)
        ...(translated.quarantined_rows ? { teacher_quarantined_rows: translated.quarantined_rows } : {}),
        ...Object.fromEntries(Object.entries(corpus.by_origin).map(([k, v]) => [`pairs_${k}`, v])),
        ...(s.decontamination ? decontaminatedMetrics(corpus.decontaminated ?? {}) : {}),
        ...(s.language_id ? { teacher_wrong_language: corpus.wrong_language } : {}),
      },
      activities: combineActivities(translated.activities),
    };
  },
};
