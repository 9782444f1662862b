import type { SourceCheck } from '../../contracts/campaign';
import { splitHubRevision } from '../../contracts/hub-revision';

/** A raw source a stage reads: `field` is the recipe path errors name, the kind what it must be. */
export const model = (uri: string, field: string): SourceCheck => ({ uri, field, kind: 'model' });
export const dataset = (uri: string, field: string): SourceCheck => ({ uri, field, kind: 'dataset' });
export const file = (uri: string, field: string): SourceCheck => ({ uri, field, kind: 'file' });

/**
 * The recipe field a stage declared `uri` under. The work is handed hub sources pinned to the commit
 * the stage opened at (pin-sources.ts), so they are matched without their revision.
 */
export function fieldOf(declared: readonly SourceCheck[], uri: string): string | undefined {
  const bare = splitHubRevision(uri).uri;
  return declared.find((c) => c.uri === uri || splitHubRevision(c.uri).uri === bare)?.field;
}
