import { z } from 'zod';
import { SourceUri, StoreUri } from './artifact';
import { DefaultQueues } from './queues';
import { ProgressDefaults } from './activity-progress';
import { Estimates } from './estimates';
import { Resources } from './resources';
import { Gate } from './gates';
import { Check } from './checks';
import { Budget } from './budget';
import { fraction, positiveInt } from './numbers';
import { checkRecipe } from './recipe-rules';
import { RecipeStages } from './stages';
import { BenchmarkFormat, Script } from './format-tables';

export { BenchmarkFormat, Script };
import { Scheduling } from './scheduling';

// Every knob of a campaign, declared once with its unit and default. Recipes are YAML with the
// same snake_case keys. Knobs the Hala report does not publish carry our documented defaults.

/** Generation settings shared by every translation pass (teacher and translator). */
export const GenerationKnobs = z.strictObject({
  engine: z
    .enum(['auto', 'vllm', 'transformers'])
    .default('auto')
    .describe('auto = vLLM when importable and a GPU is present, else transformers generate()'),
  batch_size: positiveInt().default(32).describe('prompts per generation batch'),
  max_new_tokens: positiveInt().default(512).describe('tokens generated per segment at most'),
  prompt_template: z
    .string()
    .refine((t) => t.includes('{text}'), 'must contain {text}')
    .default('Translate everything that follows into {target_name}:\n\n{text}')
    .describe("single user turn; the report's translator prompt; greedy decoding always"),
  tensor_parallel_size: positiveInt()
    .default(1)
    .describe('GPUs one engine of this model spans (vLLM tensor parallelism); its resources route must name a class with at least as many GPUs'),
  // In the stage key with the rest (a stage that tolerated more failed rows is another result), but
  // not a property of a row's translation: a cache of translations must leave it out of its key.
  max_error_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0.001)
    .describe('fraction of a translation fan-out\'s rows that may be quarantined (the engine raised on each alone: a template error, a prompt longer than the context) before the stage fails TooManyFailedRows; 0 = any such row fails it'),
});

export const Benchmark = z.strictObject({
  name: z.string().min(1),
  uri: SourceUri.describe('parquet in the layout `format` names'),
  format: BenchmarkFormat,
});

/**
 * Column layouts of instruction sets: open_orca (system_prompt, question, response), sharegpt
 * (`conversations` of {from, value}: Hermes-3; ReAlign-Alpaca's `items` through turns_column),
 * messages (`messages` of {role, content}, Tulu-3), columns (one user/assistant exchange from named
 * columns: SCP-116K, Dahoas, LaMini).
 */
export const InstructionFormat = z.enum(['open_orca', 'sharegpt', 'messages', 'columns']);
export const ColumnMapping = z.strictObject({
  system: z.string().optional(),
  user: z.string(),
  /** appended to the user turn after a blank line (Alpaca's `input`) */
  input: z.string().optional(),
  assistant: z.string(),
});

export const InstructionSet = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  uri: SourceUri,
  format: InstructionFormat,
  columns: ColumnMapping.optional().describe('required when format is columns'),
  max_rows: positiveInt().optional().describe('take at most this many rows (all when absent)'),
  drop_code: z.boolean().default(false).describe('drop rows that contain code (Hermes-3 in the report)'),
  turns_column: z
    .string()
    .min(1)
    .optional()
    .describe('the list column of a turn-list format when it is not the usual one (sharegpt: conversations, messages: messages); ReAlign-Alpaca keeps ShareGPT turns in `items`'),
  exclude_sources: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("leave out rows whose `source` column is one of these (Tulu-3's multilingual subsets); they are counted as quarantined, reason excluded_source"),
});

/** A BCP-47 tag as OPUS names its columns: language, then optional script and region (en, ar, zh-Hans, pt-BR). */
const LanguageTag = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$/, 'must be a BCP-47 language tag such as en, fr or zh-Hans');

// The target has no default: a recipe names its language (a default one would make every recipe that
// forgot it a campaign for that language). The source defaults to English, the side OPUS and the
// instruction sets are in.
export const Language = z.strictObject({
  source: LanguageTag.default('en').describe('BCP-47 language tag; the OPUS column name'),
  target: LanguageTag.describe('BCP-47 language tag; the OPUS column name (required)'),
  source_name: z.string().min(1).default('English').describe('language name used in prompts'),
  target_name: z.string().min(1).describe('language name used in prompts (required)'),
  source_script: Script.default('latin'),
  target_script: Script.describe('writing system of the target side (required; any = no check)'),
});
/** What each activity reads of the language: stages key on exactly the fields they pass on. */
export const LanguageCodes = Language.pick({ source: true, target: true });
export const LanguageScripts = Language.pick({ source: true, target: true, source_script: true, target_script: true });
export const LanguageNames = Language.pick({ source: true, target: true, source_name: true, target_name: true });

/**
 * The language identifier: `builtin` is fastText's lid.176.ftz (shipped inside the npm package
 * fasttext.wasm.js: nothing to stage, 176 languages, ISO 639 codes such as en, ar). A fastText model file (GlotLID's model.bin in
 * production: 2000+ languages, labels such as `__label__arb_Arab`) is read from the store or the hub
 * mirror like every other input, never downloaded at run time; its labels for each side are named
 * here, since a macro-language has several (GlotLID: arb_Arab, ary_Arab, arz_Arab, ... for one of them).
 */
export const LanguageIdModel = z.union([
  z.literal('builtin'),
  z.strictObject({
    fasttext: SourceUri.describe('a fastText .bin/.ftz language-id model file, e.g. hf://cis-lmu/glotlid/model.bin (GlotLID), staged in the store or the hub mirror'),
    source_labels: z.array(z.string().min(1)).min(1).describe('labels the model gives source-language text, without __label__ (GlotLID: eng_Latn)'),
    target_labels: z.array(z.string().min(1)).min(1).describe('labels the model gives target-language text (GlotLID: e.g. arb_Arab and the dialects to keep)'),
  }),
]);

export const BleuTokenize = z.enum(['intl', '13a', 'flores200']);

const RecipeShape = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
    description: z.string().default(''),
    seed: z.number().int().nonnegative().default(0),
    language: Language,
    store: z
      .strictObject({
        root: StoreUri.default('file://.hala/store').describe('relative file:// roots resolve against the repo'),
        s3_endpoint: z.string().url().optional().describe('S3-compatible endpoint (SeaweedFS, MinIO)'),
        s3_region: z.string().default('us-east-1'),
      })
      .prefault({}),
    queues: z
      .strictObject({
        cpu: z.string().default(DefaultQueues.cpu),
        quantize: z.string().default(DefaultQueues.quantize),
        infer: z.string().default(DefaultQueues.infer),
        train: z.string().default(DefaultQueues.train),
        eval: z.string().default(DefaultQueues.eval),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        heartbeat_s: positiveInt()
          .optional()
          .describe('heartbeat timeout of every activity, in seconds: how soon a dead worker is noticed and its work retried elsewhere. Default: 2 min for CPU and translation activities, 5 min for the other GPU activities (loading 100 GB of weights is quiet but still heartbeated). Tiny runs and the chaos suite use ~15.'),
        stall_s: positiveInt()
          .optional()
          .describe('a GPU runner that reports no progress for this many seconds is hung (a deadlocked collective, a frozen engine): its processes are killed and the activity fails Stalled, to be retried. Default per activity: 4 h compress (one quiet quantization call), 10 min scoring, 30 min the others (loading weights, saving a checkpoint).'),
        progress_s: positiveInt()
          .default(ProgressDefaults.progress_s)
          .describe(`least seconds between the progress signals a GPU activity sends its stage workflow (what the Temporal UI shows it doing); the gap also grows with the run (elapsed / 50), so a three-day run sends a few hundred. Default ${ProgressDefaults.progress_s}`),
        no_worker_s: positiveInt()
          .default(ProgressDefaults.no_worker_s)
          .describe(`a GPU activity with no progress this many seconds after it was scheduled makes its stage ask whether anyone polls its queue; if nobody does, the stage says "no worker on <queue>" in the UI. Default ${ProgressDefaults.no_worker_s} (5 min)`),
      })
      .prefault({}),
    retries: z
      .strictObject({
        runner_failed: positiveInt()
          .default(3)
          .describe('attempts of a GPU activity whose runner crashed or raised an unknown error (a likely bug: retrying rarely helps); preemptions and stalls are retried up to 20 times'),
      })
      .prefault({}),
    fan_out: z
      .strictObject({
        window: positiveInt().default(8).describe('translation shards in flight at once, per fan-out'),
        shards_per_run: positiveInt().default(200).describe('continue-as-new after this many shards'),
      })
      .prefault({})
      .describe('scheduling of the translation fan-outs: how fast, never what comes out, so in no stage key'),
    scheduling: Scheduling.prefault({}),
    resources: Resources,
    budget: Budget,
    // Knobs that several stages read, each in one place: a stage reads them, it never borrows another's section.
    generation: z
      .strictObject({
        teacher: GenerationKnobs.prefault({}).describe('the teacher translating Open-Orca, and its BF16-vs-FP8 check on the dev set'),
        translator: GenerationKnobs.prefault({}).describe('the fine-tuned translator translating the instruction sets, and its evaluation'),
      })
      .prefault({}),
    scoring: z
      .strictObject({ bleu_tokenize: BleuTokenize.default('intl').describe('sacrebleu tokenisation of every BLEU score') })
      .prefault({}),
    decontamination: z
      .strictObject({
        check: z
          .boolean()
          .default(true)
          .describe('take every training row that repeats an evaluation text (benchmark questions and choices, translation dev pairs) out of the bilingual and the SFT corpus, into quarantine'),
        ngram: positiveInt().default(8).describe('words a run shared with an evaluation text must have to count as a repeat, compared in both languages'),
      })
      .prefault({}),
    language_id: z
      .strictObject({
        check: z
          .boolean()
          .default(true)
          .describe('identify the language of both sides of every OPUS pair (filter_opus) and of every translated output (the teacher\'s Open-Orca translations, the translated instruction sets); a text the model places in another language is quarantined with a count'),
        model: LanguageIdModel.default('builtin'),
        min_confidence: fraction()
          .default(0.5)
          .describe('a text is in the wrong language only when the model names another language with at least this confidence (the fastText probability of the top label); an unsure guess keeps the text'),
        min_letters: positiveInt()
          .default(12)
          .describe('texts with fewer letters (code, digits and punctuation do not count) are not judged: too short to tell ("OK", "نعم")'),
      })
      .prefault({}),
    inputs: z.strictObject({
      teacher: SourceUri.describe('hf://CohereLabs/command-a-translate-08-2025 in the report'),
      opus: SourceUri.describe('OPUS-100 pairs parquet, column `translation` {<source>, <target>}'),
      open_orca: SourceUri.describe('Open-Orca parquet: id, system_prompt, question, response'),
      translation_dev: SourceUri.describe('held-out pairs for BLEU / chrF++ (OPUS-100 layout)'),
      instruction_sets: z.array(InstructionSet).min(1),
      benchmarks: z.array(Benchmark).min(1),
    }),
    stages: RecipeStages,
    estimates: Estimates,
    gates: z
      .array(Gate)
      .default([])
      .describe('approval gates: each holds the stages of one kind until `hala approve <campaign> <gate>` (none by default)'),
    checks: z
      .array(Check)
      .default([])
      .describe("predicates on a stage's metrics that act right after it: fail, hold (an approval gate with the figures) or choose (none by default)"),
  });

export const Recipe = RecipeShape.superRefine(checkRecipe);
export type Recipe = z.infer<typeof Recipe>;
export type GenerationKnobs = z.infer<typeof GenerationKnobs>;
export type Language = z.infer<typeof Language>;
export type LanguageIdKnobs = z.infer<typeof RecipeShape>['language_id'];
/** A recipe's fields before the rules across them are checked (recipe-rules.ts). */
export type RecipeFields = z.infer<typeof RecipeShape>;
