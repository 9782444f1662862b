// A stage's translation through the translation cache (contracts/translation-cache.ts): rows whose
// text the cache holds for this model, prompt, engine and max_new_tokens are taken from it; only the
// rest go to the GPU fan-out, and what it publishes joins the cache shard by shard (the runner writes
// each pointer as soon as the shard is published, so a crash mid fan-out loses nothing).
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import type { TranslationCacheIdentity } from '../contracts/translation-cache';
import type { TranslateCorpusInput, TranslateCorpusOutput } from './translate-corpus';

/** What a stage adds to its fan-out request to go through the cache. */
export interface TranslationCacheRequest {
  /** sha256 of the model artifact that translates (the translator, the FP8 teacher). */
  model_sha256: string;
  /** Miss shards are cut again at the stage's shard size. */
  shard_rows: number;
}

/** A stage's fan-out request; `cache` absent: every shard is translated, as before the cache. */
export type FanOutRequest = Omit<TranslateCorpusInput, 'runtime' | 'stage_key' | 'cache'> & { cache?: TranslationCacheRequest };
/** What the fan-out child itself is given (run-stage.ts adds runtime and key). */
export type FanOutChildRequest = Omit<TranslateCorpusInput, 'runtime' | 'stage_key'>;

export interface CachedTranslationOutput extends TranslateCorpusOutput {
  /** Rows taken from the cache; `rows` counts only those the GPUs translated now. */
  cached_rows: number;
  /** Rows not sent because an earlier row had the same text: they take its translation. */
  duplicate_rows: number;
  /** Cache parts skipped as corrupt or missing (their rows were translated again). */
  skipped_cache_parts: number;
}

export interface CacheContext {
  cpu: CpuActivityFns;
  /** The stage's runtime, as far as the cache reads it. */
  runtime: { store_root: string; campaign_id: string; forced: boolean };
  stage_key: string;
}

export async function translateThroughCache(
  { cpu, runtime, stage_key }: CacheContext,
  request: FanOutRequest,
  fanOut: (request: FanOutChildRequest) => Promise<TranslateCorpusOutput>,
): Promise<CachedTranslationOutput> {
  const { cache, ...plain } = request;
  if (!cache) return { ...(await fanOut(plain)), cached_rows: 0, duplicate_rows: 0, skipped_cache_parts: 0 };
  const splitInput = {
    stage_key,
    store_root: runtime.store_root,
    output_prefix: `${request.output_prefix}/cache-split`,
    identity: cacheIdentity(request, cache),
    shard_list: request.shard_list,
    shard_rows: cache.shard_rows,
    // A forced run (--no-cache, --rerun) recomputes every row; what it translates still joins the cache.
    read: !runtime.forced,
  };
  const split = await cpu.splitTranslationCache(splitInput);
  const hits = split.hit_rows > 0 ? [split.hit_list] : [];
  const figures = { cached_rows: split.hit_rows, duplicate_rows: split.duplicate_rows, skipped_cache_parts: split.skipped_parts };
  if (split.miss_count === 0) {
    // Every row was cached: no fan-out, no GPU.
    return { translation_lists: hits, rows: 0, generated_tokens: 0, resumed_rows: 0, oom_halvings: 0, activities: [], ...figures };
  }
  // Re-cut misses translate below a prefix named by their list: a later run with other misses under
  // the same stage key (a rerun after a failure) must not overwrite a shard an earlier pointer names.
  const recut = split.miss_list.uri !== request.shard_list.uri;
  const translated = await fanOut({
    ...plain,
    output_prefix: recut ? `${plain.output_prefix}/misses-${split.miss_list.sha256.slice(0, 16)}` : plain.output_prefix,
    shard_list: split.miss_list,
    shard_count: split.miss_count,
    cache: { parts_prefix: split.parts_prefix, campaign_id: runtime.campaign_id },
  });
  // Hits first, then the fresh translations: assembly reads every list and joins by segment id.
  const lists = [...hits, ...translated.translation_lists];
  if (split.duplicate_rows === 0) return { ...translated, translation_lists: lists, ...figures };
  // Rows whose text went to the GPUs under an earlier row: every row of the shards, from these lists alone.
  const filled = await cpu.splitTranslationCache({ ...splitInput, output_prefix: `${request.output_prefix}/cache-fill`, read: true, translated_lists: lists });
  return { ...translated, translation_lists: [filled.hit_list], ...figures };
}

/**
 * What finds a request's rows in the cache: the model, the prompt as sent and the knobs that change
 * the tokens. Batch size and tensor parallelism are left out: changing them finds every row cached.
 */
export function cacheIdentity(request: FanOutRequest, cache: TranslationCacheRequest): TranslationCacheIdentity {
  return {
    model_sha256: cache.model_sha256,
    prompt_template: request.prompt_template,
    engine: request.generation.engine,
    max_new_tokens: request.generation.max_new_tokens,
  };
}
