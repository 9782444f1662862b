// Digests of the raw sources a stage reads (hub models and datasets, shared files), resolved by
// openStage: they enter the stage key, so new upstream content re-runs the stage, and they give
// every lineage parent of kind `source` a sha256.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { HalaErrorType } from '../contracts/errors';
import type { SourceDigest } from '../contracts/lineage';
import { type ArtifactStore, activeHubMirror, directoryManifest, fileSha256, resolveSource, sha256Hex } from './store';
import { expandLocalGlob, isGlob } from './store/hub-source';
import { splitHubRevision } from '../contracts/hub-revision';
import { listFilesRecursive } from './store/digest';

/** A stage input that is already a store artifact's digest, as opposed to a source URI. */
export const isArtifactDigest = (input: string) => /^[0-9a-f]{64}$/.test(input);

/** The source cannot be identified as given: retrying will not help, the recipe or the set-up must change. */
export class SourceUnresolved extends Error {
  readonly halaType: HalaErrorType = 'BadInput';
  override readonly name = 'SourceUnresolved';
}

/** The hub did not answer (network, 5xx, rate limit): worth retrying. */
export class HubUnavailable extends Error {
  readonly halaType: HalaErrorType = 'StorageUnavailable';
  override readonly name = 'HubUnavailable';
}

/** The slice of `fetch` the hub lookup needs, so tests can answer without a network. */
export type HubFetch = (
  url: string,
  init: { headers: Record<string, string>; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface SourceDigestDeps {
  store: ArtifactStore;
  /** Offline hub mirror for hf:// ids; default $HALA_HUB_MIRROR, read on each call as activities/cpu.ts does. */
  hubMirror?: string;
  /** Default: the global fetch. */
  fetch?: HubFetch;
  /** Default $HF_TOKEN; needed for gated or private repos. */
  hfToken?: string;
  /** Default $HF_ENDPOINT, else https://huggingface.co. */
  hubEndpoint?: string;
}

export type DigestSource = (uri: string) => Promise<SourceDigest>;

/**
 * `digestSource(uri)`: with a hub mirror (or for file:// and s3:// sources) the digest of the bytes
 * found where activities/cpu.ts would read them; for hf:// without a mirror, the digest of the hub's
 * current `main` commit of the repo plus the path inside it (the hub is not downloaded to hash it).
 */
export function createSourceDigests(deps: SourceDigestDeps): DigestSource {
  const local = localDigestCache();
  return async (uri) => {
    const mirror = activeHubMirror(deps.hubMirror);
    if (uri.startsWith('hf://') && !mirror) return hubRevisionDigest(uri, deps);
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

/**
 * `hf://org/name[@revision][/path]` (a model) or `hf://datasets/org/name[@revision][/path]`, split
 * the way the hub API names them; `revision` is absent when none is pinned (the hub's `main`).
 */
export function parseHubId(uri: string): { kind: 'models' | 'datasets'; repo: string; path: string; revision?: string } {
  const { uri: bare, revision } = splitHubRevision(uri);
  const segments = bare.slice('hf://'.length).split('/').filter((s) => s !== '');
  const kind = segments[0] === 'datasets' ? 'datasets' : 'models';
  const rest = kind === 'datasets' ? segments.slice(1) : segments;
  if (rest.length < 2) {
    throw new SourceUnresolved(`${uri} is not a hub id: write hf://org/name[/path] for a model or hf://datasets/org/name/path for a dataset`);
  }
  return { kind, repo: `${rest[0]}/${rest[1]}`, path: rest.slice(2).join('/'), ...(revision !== undefined ? { revision } : {}) };
}

const HUB_TIMEOUT_MS = 30_000;

async function hubRevisionDigest(uri: string, deps: SourceDigestDeps): Promise<SourceDigest> {
  const { kind, repo, path: inRepo, revision: pinned } = parseHubId(uri);
  // The hub's own switch for "never reach the network" (the Python workers honour it too): tests
  // and air-gapped clusters set it, and an hf:// id without a mirror is then a set-up error.
  if (deps.fetch === undefined && process.env.HF_HUB_OFFLINE === '1') {
    throw new SourceUnresolved(`${uri}: HF_HUB_OFFLINE=1 forbids asking the hub for its revision; serve it through HALA_HUB_MIRROR`);
  }
  const endpoint = (deps.hubEndpoint ?? (process.env.HF_ENDPOINT || 'https://huggingface.co')).replace(/\/+$/, '');
  const token = deps.hfToken ?? (process.env.HF_TOKEN || undefined);
  const asked = pinned ?? 'main';
  const url = `${endpoint}/api/${kind}/${repo.split('/').map(encodeURIComponent).join('/')}/revision/${encodeURIComponent(asked)}`;
  const doFetch: HubFetch = deps.fetch ?? ((u, init) => fetch(u, init));
  const offline = 'or serve the hub offline through HALA_HUB_MIRROR';

  let response: Awaited<ReturnType<HubFetch>>;
  try {
    response = await doFetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(HUB_TIMEOUT_MS),
    });
  } catch (error) {
    throw new HubUnavailable(`${uri}: the hub did not answer ${url} (${(error as Error).message}); check the network, ${offline}`);
  }
  if (response.status === 401 || response.status === 403) {
    const fix = token ? 'the HF_TOKEN given cannot read it: accept the repo terms on the hub or use a token that can' : 'set HF_TOKEN to a token that can read it';
    throw new SourceUnresolved(`${uri}: the hub refused ${url} (HTTP ${response.status}), the repo is gated, private or misspelled; ${fix}, ${offline}`);
  }
  if (response.status === 404) {
    throw new SourceUnresolved(`${uri}: the hub has no ${kind === 'datasets' ? 'dataset' : 'model'} repo ${repo} with a revision ${asked} (HTTP 404); fix the recipe input`);
  }
  if (response.status === 429 || response.status >= 500) {
    throw new HubUnavailable(`${uri}: the hub answered ${url} with HTTP ${response.status}; it will be retried`);
  }
  const body = response.ok ? ((await response.json().catch(() => undefined)) as { sha?: unknown } | undefined) : undefined;
  const commit = typeof body?.sha === 'string' && /^[0-9a-f]{40}$/.test(body.sha) ? body.sha : undefined;
  if (!commit) {
    throw new SourceUnresolved(`${uri}: ${url} answered HTTP ${response.status} without a commit sha; check HF_ENDPOINT points at the Hugging Face hub, ${offline}`);
  }
  return { uri, sha256: sha256Hex(`hf-revision:${repo}@${commit}:${inRepo}`), revision: commit };
}
