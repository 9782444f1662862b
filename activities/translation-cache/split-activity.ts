// The CPU activity before a translation fan-out: which rows the cache already holds (hits) and which
// the GPUs must still translate (misses, re-sharded). Registered with the CPU activities:
//   createTranslationCacheActivities({ store }).splitTranslationCache(input)
import path from 'node:path';
import type { ArtifactRef } from '../../contracts/artifact';
import {
  SplitTranslationCacheInput,
  type SplitTranslationCacheOutput,
  TranslationCachePart,
} from '../../contracts/translation-cache';
import { runInWorkDir } from '../cpu';
import { parseOrBadInput } from '../parse-input';
import { expandRefLists, loadRefList, saveRefList } from '../ref-lists';
import { type ArtifactStore, joinUri, storeLayout } from '../store';
import { translationCacheNamespace } from './namespace';
import { type CachedPart, splitCachedRows } from './split-rows';

export interface TranslationCacheDeps {
  store: ArtifactStore;
  workRoot?: string;
}

export function createTranslationCacheActivities({ store, workRoot }: TranslationCacheDeps) {
  return {
    async splitTranslationCache(raw: SplitTranslationCacheInput): Promise<SplitTranslationCacheOutput> {
      const input = parseOrBadInput(SplitTranslationCacheInput, raw, 'splitTranslationCache');
      const namespace = translationCacheNamespace(input.identity);
      const parts_prefix = storeLayout.translationCacheParts(input.store_root, namespace);
      const shards = await loadRefList(store, input.shard_list);
      const passThrough = async (parts: number, skipped_parts: number): Promise<SplitTranslationCacheOutput> => ({
        namespace,
        parts_prefix,
        hit_list: await saveRefList(store, joinUri(input.output_prefix, 'hits.json'), []),
        hit_rows: 0,
        miss_list: input.shard_list,
        miss_count: shards.length,
        miss_rows: shards.reduce((n, s) => n + (s.rows ?? 0), 0),
        duplicate_rows: 0,
        parts,
        skipped_parts,
        hit_sources: [],
      });
      // A forced run recomputes: it reads nothing from the cache (what it translates still joins it).
      if (!input.read) return passThrough(0, 0);
      return runInWorkDir('splitTranslationCache', workRoot, async (workDir) => {
        const { pointers, skipped } = input.translated_lists ? await ownParts(store, input.translated_lists) : await readParts(store, parts_prefix);
        const segments = await Promise.all(shards.map((s) => store.fetchToLocal(s)));
        const cached: CachedPart[] = pointers.map((p, part) => ({ path: p.local, part }));
        const split = await splitCachedRows({ segments, parts: cached, shardRows: input.shard_rows, workDir });
        const skipped_parts = skipped + split.unreadable.length;
        const parts = pointers.length - split.unreadable.length;
        const hit_rows = split.hits.reduce((n, s) => n + s.rows, 0);
        // Nothing hit, no text twice: translate the shards as prepared (their own prefixes, so a retry resumes their chunks).
        if (hit_rows === 0 && split.duplicates === 0) return passThrough(parts, skipped_parts);
        const publish = async (files: typeof split.hits, side: string) => {
          const refs: ArtifactRef[] = [];
          for (const f of files) refs.push(await store.putFile(f.path, joinUri(input.output_prefix, side, path.basename(f.path)), 'dataset', f.rows));
          return saveRefList(store, joinUri(input.output_prefix, `${side}.json`), refs);
        };
        // Lineage of the hits: every part that supplied rows, by digest, and who translated it.
        const used = [...split.hitsByPart].map(([part, rows]) => ({ ...pointerLineage(pointers[part]!), rows }));
        if (!input.translated_lists) await store.putBytes(joinUri(input.output_prefix, 'hits-from.json'), JSON.stringify({ namespace, parts: used }));
        return {
          namespace,
          parts_prefix,
          hit_list: await publish(split.hits, 'hits'),
          hit_rows,
          miss_list: await publish(split.misses, 'misses'),
          miss_count: split.misses.length,
          miss_rows: split.misses.reduce((n, s) => n + s.rows, 0),
          duplicate_rows: split.duplicates,
          parts,
          skipped_parts,
          hit_sources: input.translated_lists ? [] : hitSources(pointers, split.hitsByPart),
        };
      });
    },
  };
}

interface LoadedPart extends TranslationCachePart {
  local: string;
}

/**
 * Every part of the namespace, each verified: the pointer parses, is named by the digest it points
 * at, and the parquet matches that digest. Anything else is counted and skipped, never trusted:
 * its rows are simply translated again.
 */
async function readParts(store: ArtifactStore, prefix: string): Promise<{ pointers: LoadedPart[]; skipped: number }> {
  const pointers: LoadedPart[] = [];
  let skipped = 0;
  for (const uri of (await store.list(prefix)).filter((u) => u.endsWith('.json'))) {
    try {
      const part = TranslationCachePart.parse(JSON.parse((await store.getBytes(uri)).toString('utf8')));
      if (path.posix.basename(uri) !== `${part.translations.sha256}.json`) throw new Error(`${uri} does not name ${part.translations.sha256}`);
      pointers.push({ ...part, local: await store.fetchToLocal(part.translations) });
    } catch {
      skipped++;
    }
  }
  return { pointers, skipped };
}

/**
 * The stage's own translated shards (its hits and what its fan-out just published), verified by
 * their references: a corrupt one fails the activity (ArtifactCorrupt), as any artifact read does.
 */
async function ownParts(store: ArtifactStore, lists: ArtifactRef[]): Promise<{ pointers: LoadedPart[]; skipped: number }> {
  const refs = await expandRefLists(store, lists);
  const pointers: LoadedPart[] = [];
  for (const ref of refs) pointers.push({ translations: ref, stage_key: '', campaign_id: '', local: await store.fetchToLocal(ref) });
  return { pointers, skipped: 0 };
}

const pointerLineage = (p: LoadedPart) => ({ sha256: p.translations.sha256, uri: p.translations.uri, campaign_id: p.campaign_id, stage_key: p.stage_key });

function hitSources(pointers: LoadedPart[], byPart: Map<number, number>): SplitTranslationCacheOutput['hit_sources'] {
  const bySource = new Map<string, { campaign_id: string; stage_key: string; rows: number }>();
  for (const [part, rows] of byPart) {
    const p = pointers[part];
    if (!p) continue;
    const id = `${p.campaign_id} ${p.stage_key}`;
    const entry = bySource.get(id) ?? { campaign_id: p.campaign_id, stage_key: p.stage_key, rows: 0 };
    entry.rows += rows;
    bySource.set(id, entry);
  }
  return [...bySource.values()];
}
