import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so that two equal configs always hash equally,
 * whatever order a recipe wrote them in. `undefined` members are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface StageKeyParts {
  stage: string;
  config: unknown;
  /** Digests of the input artifacts and URIs of external sources, in the stage's order. */
  inputs: string[];
  /**
   * The digest of what each source URI in `inputs` holds now: a URI alone names a place, not
   * content, so without this a changed upstream dataset or a new hub commit would hit the cache.
   */
  sources?: { uri: string; sha256: string }[];
  runner_version: string;
}

/** sha256(stage name, resolved config, input and source digests, runner version): the identity of a stage's work. */
export function stageKey(parts: StageKeyParts): string {
  const { stage, config, inputs, runner_version } = parts;
  // Only uri and sha256 of a source count: other facts (a hub revision) are already in the digest.
  const sources = parts.sources?.map(({ uri, sha256 }) => ({ uri, sha256 }));
  return createHash('sha256').update(canonicalJson({ stage, config, inputs, sources, runner_version })).digest('hex');
}
