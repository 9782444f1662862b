import { z } from 'zod';
import { ArtifactRef } from './artifact';

/** A raw input read from outside the store (a hub dataset or model), with the digest of what was read. */
export const SourceDigest = z.object({ uri: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type SourceDigest = z.infer<typeof SourceDigest>;

export const LineageParent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('artifact'), sha256: z.string() }),
  /** sha256 is absent when the stage did not report the digest of the source it read */
  z.object({ kind: z.literal('source'), uri: z.string(), sha256: z.string().optional() }),
]);

/**
 * Who produced an artifact and from what: written at `lineage/<sha256>.json` in the store when its
 * stage closes, so the trail outlives Temporal's history retention.
 */
export const LineageRecord = z.object({
  artifact: ArtifactRef,
  stage: z.string(),
  stage_key: z.string(),
  producer: z.object({
    campaign_id: z.string(),
    workflow_id: z.string(),
    run_id: z.string(),
    code_version: z.string(),
  }),
  parents: z.array(LineageParent),
  config: z.unknown(),
  started_at: z.string(),
  ended_at: z.string(),
});
export type LineageRecord = z.infer<typeof LineageRecord>;
export type LineageParent = z.infer<typeof LineageParent>;
