// A stand-in for translate_shard on the CPU, for tests of the translation cache with real segment
// shards and the real split activity: it "translates" each shard (`<t>` + text), publishes the
// translated parquet as the runner does and registers it with the same content-addressed pointer
// (gpu-runners/hala_runners/translation_cache.py, tested there), counting every row it was sent.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ArtifactRef } from '../../contracts/artifact';
import type { TranslationCachePart, TranslationCacheTarget } from '../../contracts/translation-cache';
import { loadRefList, saveRefList } from '../../activities/ref-lists';
import { type ArtifactStore, joinUri } from '../../activities/store';
import { sql } from './duckdb-sql';

export interface TranslatedShards {
  /** One list of translated shards, as a fan-out run returns it. */
  list: ArtifactRef;
  /** Rows sent to the stand-in: what a GPU would have generated. */
  generated: number;
}

type CacheTarget = TranslationCacheTarget & { stage_key: string };

/** Every shard of a list, one after the other, as a fan-out would. */
export async function translateShardsOnCpu(store: ArtifactStore, shardList: ArtifactRef, outputPrefix: string, target: CacheTarget): Promise<TranslatedShards> {
  const refs: ArtifactRef[] = [];
  for (const [k, shard] of (await loadRefList(store, shardList)).entries()) {
    refs.push(await translateShardOnCpu(store, shard, joinUri(outputPrefix, `shard-${String(k).padStart(5, '0')}`), target));
  }
  return { list: await saveRefList(store, joinUri(outputPrefix, 'runs', 'run-000000.json'), refs), generated: refs.reduce((n, r) => n + (r.rows ?? 0), 0) };
}

/** One shard: `<output_prefix>/translations.parquet` (id, text, translation), registered when a target is given. */
export async function translateShardOnCpu(store: ArtifactStore, shard: ArtifactRef, outputPrefix: string, target: CacheTarget | undefined): Promise<ArtifactRef> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'cache-translator-'));
  try {
    const local = path.join(scratch, 'translations.parquet');
    await sql(`COPY (SELECT id, text, '<t>' || text AS translation FROM read_parquet('${await store.fetchToLocal(shard)}')) TO '${local}' (FORMAT parquet)`);
    const rows = Number((await sql(`SELECT count(*) AS n FROM read_parquet('${local}')`))[0]?.n);
    const ref = await store.putFile(local, joinUri(outputPrefix, 'translations.parquet'), 'dataset', rows);
    if (target) {
      const pointer: TranslationCachePart = { translations: ref, stage_key: target.stage_key, campaign_id: target.campaign_id };
      await store.putBytes(joinUri(target.parts_prefix, `${ref.sha256}.json`), JSON.stringify(pointer));
    }
    return ref;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
