// How an hf:// id names a hub repo, the way the hub API spells it (one place, for the lookup, the
// digests and the shape checks).
import { splitHubRevision } from '../contracts/hub-revision';
import { SourceUnresolved } from './source-errors';

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
