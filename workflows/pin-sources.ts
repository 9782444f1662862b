import type { SourceDigest } from '../contracts/lineage';
import { pinHubRevision } from '../contracts/hub-revision';

/**
 * The slice a stage's work is given, with every hub source it read pinned to the commit openStage
 * resolved (`hf://org/name@<commit>`): the runners download exactly what the key and lineage name,
 * even if `main` moves while the stage runs. Sources without a revision (mirror, file://, s3://)
 * stay as they are; the key is made from the slice as the recipe wrote it. A source pinned to a
 * branch or tag is handed over at its commit too.
 */
export function pinSources<S>(slice: S, sources: readonly SourceDigest[]): S {
  const pins = new Map(sources.flatMap((s) => (s.revision ? [[s.uri, pinHubRevision(s.uri, s.revision)] as const] : [])));
  if (pins.size === 0) return slice;
  const pin = (value: unknown): unknown => {
    if (typeof value === 'string') return pins.get(value) ?? value;
    if (Array.isArray(value)) return value.map(pin);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pin(v)]));
    return value;
  };
  return pin(slice) as S;
}
