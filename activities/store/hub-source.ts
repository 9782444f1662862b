import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { splitHubRevision } from '../../contracts/hub-revision';
import type { ArtifactStore } from './artifact-store';
import { BadStoreUri, ArtifactMissing } from './errors';
import { parseStoreUri } from './store-uri';

/**
 * Where a source (recipe input) can be read from, by the rules of gpu-runners/hala_runners/hub.py:
 * - `hf://…` with $HALA_HUB_MIRROR set → `<mirror>/<org>/<name>` or `<mirror>/datasets/<org>/<name>/<file>`;
 *   without it the `hf://datasets/…` path is returned as is, for DuckDB's own hf:// reader;
 * - `file:///abs` → that path, wherever it is (shared inputs may live outside the store root);
 * - `s3://…` → a verified-or-fresh local copy through the store.
 * A `*` or `?` in the last path segment (`data/train-*.parquet`, how the hub shards a split) is
 * kept in the returned local path for DuckDB to expand; at least one file must match.
 */
/**
 * The offline hub mirror to read hf:// ids through: the one a caller was given, else $HALA_HUB_MIRROR
 * (read on each call, so tests and the local stack can set it late); an empty string means none.
 */
export const activeHubMirror = (explicit?: string): string | undefined => (explicit ?? process.env.HALA_HUB_MIRROR) || undefined;

export async function resolveSource(
  uri: string,
  store: ArtifactStore,
  mirror: string | undefined = activeHubMirror(),
): Promise<string> {
  if (uri.startsWith('hf://')) {
    const rest = uri.slice('hf://'.length).replace(/^\/+|\/+$/g, '');
    if (rest.split('/').includes('..')) throw new BadStoreUri(`${JSON.stringify(uri)}: '..' segments are not allowed`);
    if (!mirror) return `hf://${rest}`;
    // The mirror holds one snapshot of each repo: a pinned revision reads it (the digest tells which content it was).
    const local = path.join(mirror, ...splitHubRevision(`hf://${rest}`).uri.slice('hf://'.length).split('/'));
    if (isGlob(local)) return matchedGlob(uri, local);
    const present = await access(local).then(() => true, () => false);
    if (!present) {
      throw new ArtifactMissing(
        `${uri} is not in the hub mirror ${mirror} (HALA_HUB_MIRROR); add it there or unset HALA_HUB_MIRROR to use the hub`,
      );
    }
    return local;
  }
  const location = parseStoreUri(uri);
  if (location.scheme === 'file') {
    if (isGlob(location.path)) return matchedGlob(uri, location.path);
    const present = await access(location.path).then(() => true, () => false);
    if (!present) throw new ArtifactMissing(`source ${uri} does not exist; fix the recipe input or create the file`);
    return location.path;
  }
  if (isGlob(uri)) throw new BadStoreUri(`${uri}: globs are read from hf:// and file:// sources only; list the s3:// files one by one`);
  return store.fetchToLocal(uri);
}

export const isGlob = (p: string) => /[*?]/.test(p);

/** The files a local glob matches (pattern in the last segment only), in name order. */
export async function expandLocalGlob(pattern: string): Promise<string[]> {
  const dir = path.dirname(pattern);
  if (isGlob(dir)) throw new BadStoreUri(`${pattern}: only the file name may hold * or ? (e.g. data/train-*.parquet)`);
  const test = globRegExp(path.basename(pattern));
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && test.test(e.name)).map((e) => path.join(dir, e.name)).sort();
}

async function matchedGlob(uri: string, localPattern: string): Promise<string> {
  if ((await expandLocalGlob(localPattern)).length === 0) {
    throw new ArtifactMissing(`${uri} matches no file (looked in ${path.dirname(localPattern)}); check the pattern or add the files`);
  }
  return localPattern;
}

/** `test-*.parquet` → /^test-.*\.parquet$/ (fnmatch's * and ?, as Python's hub.resolve_files). */
export function globRegExp(pattern: string): RegExp {
  const body = [...pattern].map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}
