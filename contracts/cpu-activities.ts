import { z } from 'zod';
import { ArtifactRef, SourceUri, StoreUri } from './artifact';
import { FunnelStep, MAX_GATE_SAMPLES } from './gates';
import { CheckReport } from './checks';
import { BenchmarkFormat, ColumnMapping, InstructionFormat, LanguageCodes, LanguageIdModel, LanguageNames, LanguageScripts, Recipe } from './recipe';

// Payloads of the TypeScript activities on the CPU queue (the data plane).
// Segment shards are parquet `id, text`; translated shards add `translation`.
// Conversation datasets are parquet with one column `messages`: list<struct<role, content>>.

const Common = z.object({
  stage_key: z.string().regex(/^[0-9a-f]{64}$/),
  output_prefix: StoreUri,
});
const FilterKnobs = Recipe.shape.stages.shape.filter_opus.unwrap();

export { LanguageIdModel };
/** The labels the identifier must give a side (the fastText model's labels without __label__: ISO 639 codes for the builtin lid.176). */
const LanguageLabels = z.array(z.string().min(1)).min(1);
/** Language identification (recipe language_id) as an activity reads it; absent from the input: no check. */
const LanguageIdKnobs = z.object({
  model: LanguageIdModel,
  min_confidence: z.number().min(0).max(1),
  min_letters: z.number().int().positive(),
});
/** Both sides of a pair. */
export const PairLanguageCheck = LanguageIdKnobs.extend({ source: LanguageLabels, target: LanguageLabels });
/** A translated output: the target language only. */
export const OutputLanguageCheck = LanguageIdKnobs.extend({ target: LanguageLabels });
/** Rows whose translation is in another language, quarantined in wrong_language.parquet under the prefix (0 without a check). */
const WrongLanguage = z.number().int().default(0);

export const FilterOpusInput = Common.extend({
  opus: SourceUri,
  language: LanguageScripts,
  filters: FilterKnobs,
  language_id: PairLanguageCheck.optional(),
});
/** Every pair read lands in exactly one bucket: kept, or the first filter that rejected it. */
export const FilterCounts = z.object({
  read: z.number().int(),
  kept: z.number().int(),
  empty: z.number().int(),
  identical: z.number().int(),
  too_short: z.number().int(),
  too_long: z.number().int(),
  length_ratio: z.number().int(),
  source_script: z.number().int(),
  target_script: z.number().int(),
  exact_duplicate: z.number().int(),
  near_duplicate: z.number().int(),
  /** sides the identifier places in another language (language_id), after dedup; in wrong_language.parquet */
  source_language: z.number().int(),
  target_language: z.number().int(),
});
export const FilterOpusOutput = z.object({
  /** parquet: id, source, target */
  pairs: ArtifactRef,
  counts: FilterCounts,
});

/** Turns source rows into translation segments, sharded. */
export const PrepareSegmentsInput = Common.extend({
  source: SourceUri,
  format: InstructionFormat,
  columns: ColumnMapping.optional(),
  /** the list column of sharegpt / messages rows, when not the format's usual one */
  turns_column: z.string().min(1).optional(),
  /** rows whose `source` is one of these are quarantined as excluded_source */
  exclude_sources: z.array(z.string().min(1)).optional(),
  max_rows: z.number().int().positive().optional(),
  translate_responses: z.boolean(),
  drop_code: z.boolean(),
  max_segment_chars: z.number().int().positive(),
  shard_rows: z.number().int().positive(),
});
export const PrepareSegmentsOutput = z.object({
  /** parquet: row_id, turn, role, content, segment_id (null when the turn is kept as is) */
  rows: ArtifactRef,
  /** The shard references, as a list in the store (activities/ref-lists.ts); `shard_count` long. */
  shard_list: ArtifactRef,
  shard_count: z.number().int(),
  row_count: z.number().int(),
  segment_count: z.number().int(),
  /** rows left out, by reason; written to quarantine.parquet under the prefix when non-zero */
  quarantined: z.record(z.string(), z.number().int()),
});

/** The evaluation sets training rows are checked against: the benchmarks, and the translation dev set (OPUS layout). */
export const Decontamination = z.object({
  ngram: z.number().int().positive(),
  eval_sets: z.array(z.object({ name: z.string().min(1), uri: SourceUri, format: z.union([BenchmarkFormat, z.literal('opus_pairs')]) })).min(1),
  /** The dev set's OPUS column names. */
  language: LanguageCodes,
});
/** Rows taken out as repeats of an evaluation text, by the evaluation set they matched; kept in decontaminated.parquet under the prefix. */
const Decontaminated = z.record(z.string(), z.number().int()).default({});

export const AssembleConversationsInput = Common.extend({
  rows: ArtifactRef,
  /** Translated shards, as lists in the store (one per fan-out run, read in order). */
  translation_lists: z.array(ArtifactRef),
  /** Absent: no check (recipe decontamination.check false). */
  decontamination: Decontamination.optional(),
  /** Absent: no check (recipe language_id.check false). */
  language_id: OutputLanguageCheck.optional(),
});
export const AssembleConversationsOutput = z.object({
  /** parquet: id, messages */
  dataset: ArtifactRef,
  conversations: z.number().int(),
  /** conversations dropped because a segment had no translation */
  missing_translations: z.number().int(),
  decontaminated: Decontaminated,
  /** conversations with a translated turn in another language */
  wrong_language: WrongLanguage,
});

export const AssembleBilingualInput = Common.extend({
  opus_pairs: ArtifactRef,
  /** teacher-translated Open-Orca segments (parquet id, text, translation), as lists in the store */
  teacher_translation_lists: z.array(ArtifactRef),
  language: LanguageNames,
  both_directions: z.boolean(),
  prompt_template: z.string(),
  seed: z.number().int(),
  decontamination: Decontamination.optional(),
  /** The teacher's translations are checked for the target language; absent: no check. */
  language_id: OutputLanguageCheck.optional(),
});
export const AssembleBilingualOutput = z.object({
  /** parquet: id, messages (one user prompt, one assistant translation), shuffled with the seed */
  dataset: ArtifactRef,
  pairs: z.number().int(),
  examples: z.number().int(),
  by_origin: z.record(z.string(), z.number().int()),
  /** teacher segments left out because the teacher returned a blank translation */
  untranslated: z.number().int(),
  decontaminated: Decontaminated,
  /** teacher segments left out because their translation is in another language */
  wrong_language: WrongLanguage,
});

export const PrepareTranslationDevInput = Common.extend({
  dev: SourceUri,
  language: LanguageCodes,
  rows: z.number().int().positive(),
});
export const PrepareTranslationDevOutput = z.object({
  /** parquet: id, text (source side) */
  segments: ArtifactRef,
  /** parquet: id, reference (target side) */
  references: ArtifactRef,
  rows: z.number().int(),
});

/** Conversation datasets (parquet id, messages) made one, in the order given. */
export const ConcatConversationsInput = Common.extend({
  parts: z.array(ArtifactRef).min(1),
});
export const ConcatConversationsOutput = z.object({
  /** parquet: id, messages */
  dataset: ArtifactRef,
  conversations: z.number().int(),
});

/**
 * What an approval gate shows (activities/gate-preview.ts): the funnel the workflow gathered, and rows
 * sampled from the datasets the held stage reads. Answered with a GatePreview (contracts/gates.ts).
 */
export const PreviewGateInput = z.object({
  gate: z.string(),
  before: z.string(),
  funnel: z.array(FunnelStep),
  /** The datasets the held stage reads (its upstream dataset artifacts). */
  datasets: z.array(ArtifactRef),
  samples: z.number().int().min(0).max(MAX_GATE_SAMPLES),
  seed: z.number().int().nonnegative(),
  /** A hold check's figures (contracts/checks.ts): shown and digested with the rest. */
  check: CheckReport.optional(),
});
export type PreviewGateInput = z.infer<typeof PreviewGateInput>;

export type FilterOpusInput = z.infer<typeof FilterOpusInput>;
export type FilterOpusOutput = z.infer<typeof FilterOpusOutput>;
export type FilterCounts = z.infer<typeof FilterCounts>;
export type PrepareSegmentsInput = z.infer<typeof PrepareSegmentsInput>;
export type PrepareSegmentsOutput = z.infer<typeof PrepareSegmentsOutput>;
export type AssembleConversationsInput = z.input<typeof AssembleConversationsInput>;
export type AssembleConversationsOutput = z.infer<typeof AssembleConversationsOutput>;
export type AssembleBilingualInput = z.input<typeof AssembleBilingualInput>;
export type AssembleBilingualOutput = z.infer<typeof AssembleBilingualOutput>;
export type PrepareTranslationDevInput = z.infer<typeof PrepareTranslationDevInput>;
export type PrepareTranslationDevOutput = z.infer<typeof PrepareTranslationDevOutput>;
export type ConcatConversationsInput = z.infer<typeof ConcatConversationsInput>;
export type ConcatConversationsOutput = z.infer<typeof ConcatConversationsOutput>;
export type Decontamination = z.infer<typeof Decontamination>;
export type LanguageIdModel = z.infer<typeof LanguageIdModel>;
export type PairLanguageCheck = z.infer<typeof PairLanguageCheck>;
export type OutputLanguageCheck = z.infer<typeof OutputLanguageCheck>;
