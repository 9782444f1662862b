// Digests of the raw sources a stage reads (hub models and datasets, shared files), resolved by
// openStage: they enter the stage key, so new upstream content re-runs the stage, and they give
// every lineage parent of kind `source` a sha256.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { SourceDigest } from '../contracts/lineage';
import { type ArtifactStore, activeHubMirror, directoryManifest, fileSha256, resolveSource, sha256Hex } from './store';
import { expandLocalGlob, isGlob } from './store/hub-source';
import { createHubLookup, type HubDeps, type HubLookup } from './hub-revision-lookup';
import { SourceUnresolved } from './source-errors';
import { parseHubId } from './hub-id';
import { listFilesRecursive } from './store/digest';

/** A stage input that is already a store artifact's digest, as opposed to a source URI. */
export const isArtifactDigest = (input: string) => /^[0-9a-f]{64}$/.test(input);

export interface SourceDigestDeps extends HubDeps {
  store: ArtifactStore;
  /** Offline hub mirror for hf:// ids; default $HALA_HUB_MIRROR, read on each call as activities/cpu.ts does. */
  hubMirror?: string;
}

export type DigestSource = (uri: string) => Promise<SourceDigest>;

/**
 * `digestSource(uri)`: with a hub mirror (or for file:// and s3:// sources) the digest of the bytes
 * found where activities/cpu.ts would read them; for hf:// without a mirror, the digest of the hub's
 * current `main` commit of the repo plus the path inside it (the hub is not downloaded to hash it).
 */
export function createSourceDigests(deps: SourceDigestDeps, hub: HubLookup = createHubLookup(deps)): DigestSource {
  const local = localDigestCache();
  return async (uri) => {
    const mirror = activeHubMirror(deps.hubMirror);
    if (uri.startsWith('hf://') && !mirror) return hubRevisionDigest(uri, hub);
    // The same mapping (hub id -> mirror path, file:// -> path, s3:// -> local copy) the data plane reads through.
    const where = await resolveSource(uri, deps.store, mirror);
    if (isGlob(where)) return { uri, sha256: await globDigest(uri, where, local) };
    return { uri, sha256: await local(uri, where) };
  };
}

/**
 * Hashing a model repo takes minutes at full scale and every stage open asks again, so digests are
 * kept per path and reused while nothing below it changed size, mtime or inode. A directory's
 * digest is the store's manifest digest (store/digest.ts), the same rule Python applies.
 */
function localDigestCache() {
  const cache = new Map<string, { stamp: string; digest: Promise<string> }>();
  return async (uri: string, localPath: string): Promise<string> => {
    const info = await stat(localPath).catch(() => undefined);
    if (!info) throw new SourceUnresolved(`${uri}: ${localPath} vanished while it was being read; restore it or fix the recipe input`);
    const directory = info.isDirectory();
    const stamp = directory ? await directoryStamp(localPath) : `${info.size}:${info.mtimeMs}:${info.ino}`;
    const hit = cache.get(localPath);
    if (hit && hit.stamp === stamp) return hit.digest;
    const digest = directory ? directoryManifest(localPath).then((m) => m.sha256) : fileSha256(localPath);
    cache.set(localPath, { stamp, digest });
    // A failed read is not remembered: the next open tries again.
    void digest.catch(() => cache.get(localPath)?.digest === digest && cache.delete(localPath));
    return digest;
  };
}

/** A sharded split read through a glob: the digest of its files' names and digests, in name order. */
async function globDigest(uri: string, pattern: string, local: (uri: string, localPath: string) => Promise<string>): Promise<string> {
  const files = await expandLocalGlob(pattern);
  const lines = await Promise.all(files.map(async (f) => `${path.basename(f)}\0${await local(uri, f)}`));
  return sha256Hex(lines.join('\n'));
}

/** Size, mtime and inode of every file below `dir`, folded into one short string. */
async function directoryStamp(dir: string): Promise<string> {
  const files = await listFilesRecursive(dir);
  const lines = await Promise.all(
    files.map(async (rel) => {
      const info = await stat(path.join(dir, rel));
      return `${rel}\0${info.size}:${info.mtimeMs}:${info.ino}`;
    }),
  );
  return sha256Hex(lines.join('\n'));
}

async function hubRevisionDigest(uri: string, hub: HubLookup): Promise<SourceDigest> {
  const { repo, path: inRepo } = parseHubId(uri);
  const { commit } = await hub(uri);
  return { uri, sha256: sha256Hex(`hf-revision:${repo}@${commit}:${inRepo}`), revision: commit };
}
