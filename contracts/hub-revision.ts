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

/** The same hub id, pinned to `revision` (a commit sha); one already pinned keeps its own. */
export function pinHubRevision(uri: string, revision: string): string {
  if (!uri.startsWith('hf://') || splitHubRevision(uri).revision !== undefined) return uri;
  const segments = uri.slice('hf://'.length).split('/');
  const i = nameIndex(segments);
  if (segments[i] === undefined) return uri;
  segments[i] = `${segments[i]}@${revision}`;
  return `hf://${segments.join('/')}`;
}
