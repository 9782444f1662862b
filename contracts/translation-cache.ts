// The translation cache keyed by content (activities/translation-cache): a row's translation is found
// by (model digest, prompt as sent, engine, max_new_tokens) and the sha256 of its source text, not by
// the stage key and shard index that produced it. Layout: storeLayout.translationCacheParts.
//   <store_root>/translation-cache/<namespace>/parts/<sha256 of a translated shard>.json
// Each part is a pointer to a translated shard parquet (id, text, translation) that translate_shard
// published, with who produced it; written by the runner as soon as the shard is published.
import { z } from 'zod';
import { ArtifactRef, StoreUri } from './artifact';

/**
 * What decides a row's output, beside its text: the knobs that change the generated tokens. Batch
 * size, tensor parallelism and error budgets change how rows are sent, never what comes back (greedy
 * decoding), so they are not here and changing them finds every row cached.
 */
export const TranslationCacheIdentity = z.strictObject({
  model_sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('the model artifact the rows were translated with'),
  prompt_template: z.string().describe('the prompt as sent, target language filled in ({text} left)'),
  /** The recipe's engine as asked (the recipe checks its values; the cache only keys on it). */
  engine: z.string().min(1),
  max_new_tokens: z.number().int().positive(),
});

/** Where translate_shard registers what it published (TranslateShardInput.cache). */
export const TranslationCacheTarget = z.strictObject({
  parts_prefix: StoreUri.describe('<store_root>/translation-cache/<namespace>/parts'),
  campaign_id: z.string().min(1).describe('the campaign whose stage produced the shard (lineage)'),
});

/** One part: a pointer file named by the sha256 of the parquet it names. */
export const TranslationCachePart = z.object({
  translations: ArtifactRef,
  stage_key: z.string().regex(/^[0-9a-f]{64}$/),
  campaign_id: z.string().min(1),
});

/** Segment shards (parquet id, text) split into rows the cache holds and rows still to translate. */
export const SplitTranslationCacheInput = z.strictObject({
  stage_key: z.string().regex(/^[0-9a-f]{64}$/),
  store_root: StoreUri,
  /** Where the hit and miss shards go. */
  output_prefix: StoreUri,
  identity: TranslationCacheIdentity,
  shard_list: ArtifactRef,
  shard_rows: z.number().int().positive(),
  /** false for a forced run (--no-cache, --rerun): every row is a miss, the shards pass through as given. */
  read: z.boolean(),
  /**
   * After a fan-out: take translations from these lists of translated shards (this stage's hits and
   * what it just translated) instead of the namespace's parts, to fill the rows whose text was sent once.
   */
  translated_lists: z.array(ArtifactRef).optional(),
});
export const SplitTranslationCacheOutput = z.object({
  namespace: z.string().regex(/^[0-9a-f]{64}$/),
  /** Hand to translate_shard (TranslateShardInput.cache) so what it publishes joins the cache. */
  parts_prefix: StoreUri,
  /** Shards of cached rows (parquet id, text, translation), as a list in the store; read like translated shards. */
  hit_list: ArtifactRef,
  hit_rows: z.number().int().nonnegative(),
  /** Shards still to translate (parquet id, text), at most shard_rows each; the input list when nothing hit. */
  miss_list: ArtifactRef,
  miss_count: z.number().int().nonnegative(),
  miss_rows: z.number().int().nonnegative(),
  /** Rows left out of the misses because an earlier row has the same text: fill them after the fan-out (translated_lists). */
  duplicate_rows: z.number().int().nonnegative(),
  /** Parts read and used; parts skipped because the pointer or its parquet was corrupt or missing (never trusted). */
  parts: z.number().int().nonnegative(),
  skipped_parts: z.number().int().nonnegative(),
  /** Where the hits came from: the campaigns and stage keys that translated them (lineage; each part by digest in hits-from.json beside hits.json). */
  hit_sources: z.array(z.object({ campaign_id: z.string(), stage_key: z.string(), rows: z.number().int() })),
});

export type TranslationCacheIdentity = z.infer<typeof TranslationCacheIdentity>;
export type TranslationCacheTarget = z.infer<typeof TranslationCacheTarget>;
export type TranslationCachePart = z.infer<typeof TranslationCachePart>;
export type SplitTranslationCacheInput = z.infer<typeof SplitTranslationCacheInput>;
export type SplitTranslationCacheOutput = z.infer<typeof SplitTranslationCacheOutput>;
