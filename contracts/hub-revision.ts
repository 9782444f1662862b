// Pinned hub revisions: `hf://org/name@<revision>[/path]`, `hf://datasets/org/name@<revision>/path`,
// the hub's own spelling (HfFileSystem, DuckDB). Plain data and string work only: workflows pin
// sources with it, activities and the CLI read it.

/** The index of the repo-name segment of an hf:// id's path (after `datasets/` for a dataset). */
const nameIndex = (segments: string[]) => (segments[0] === 'datasets' ? 2 : 1);

/** `hf://…@rev…` -> the id without the revision, and the revision (undefined when none is pinned). */
export function splitHubRevision(uri: string): { uri: string; revision?: string } {
  if (!uri.startsWith('hf://')) return { uri };
  const segments = uri.slice('hf://'.length).split('/');
  const i = nameIndex(segments);
  const name = segments[i];
  if (name === undefined || !name.includes('@')) return { uri };
  const [bare, revision] = [name.slice(0, name.indexOf('@')), name.slice(name.indexOf('@') + 1)];
  segments[i] = bare;
  return { uri: `hf://${segments.join('/')}`, revision };
}

/** A full commit sha, the one revision spelling that names fixed content. */
export const isCommitSha = (revision: string) => /^[0-9a-f]{40}$/i.test(revision);

/**
 * The same hub id, pinned to `commit`. One pinned to a commit keeps its own. One that names a branch
 * or tag (`@refs%2Fconvert%2Fparquet`, the hub's parquet conversion, which the converter rewrites)
 * gives way to the commit it resolved to, so the runners read what the key and lineage name even if
 * the branch moves.
 */
export function pinHubRevision(uri: string, commit: string): string {
  const pinned = splitHubRevision(uri).revision;
  if (!uri.startsWith('hf://') || (pinned !== undefined && isCommitSha(pinned))) return uri;
  const bare = splitHubRevision(uri).uri;
  const segments = bare.slice('hf://'.length).split('/');
  const i = nameIndex(segments);
  if (segments[i] === undefined) return uri;
  segments[i] = `${segments[i]}@${commit}`;
  return `hf://${segments.join('/')}`;
}
