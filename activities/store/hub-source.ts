import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactStore } from './artifact-store';
import { BadStoreUri, ArtifactMissing } from './errors';
import { parseStoreUri } from './store-uri';

/**
 * Where a source (recipe input) can be read from, by the rules of gpu-runners/hala_runners/hub.py:
 * - `hf://…` with $HALA_HUB_MIRROR set → `<mirror>/<org>/<name>` or `<mirror>/datasets/<org>/<name>/<file>`;
 *   without it the `hf://datasets/…` path is returned as is, for DuckDB's own hf:// reader;
 * - `file:///abs` → that path, wherever it is (shared inputs may live outside the store root);
 * - `s3://…` → a verified-or-fresh local copy through the store.
 */
export async function resolveSource(
  uri: string,
  store: ArtifactStore,
  mirror: string | undefined = process.env.HALA_HUB_MIRROR || undefined,
): Promise<string> {
  if (uri.startsWith('hf://')) {
    const rest = uri.slice('hf://'.length).replace(/^\/+|\/+$/g, '');
    if (rest.split('/').includes('..')) throw new BadStoreUri(`${JSON.stringify(uri)}: '..' segments are not allowed`);
    if (!mirror) return `hf://${rest}`;
    const local = path.join(mirror, ...rest.split('/'));
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
    const present = await access(location.path).then(() => true, () => false);
    if (!present) throw new ArtifactMissing(`source ${uri} does not exist; fix the recipe input or create the file`);
    return location.path;
  }
  return store.fetchToLocal(uri);
}
