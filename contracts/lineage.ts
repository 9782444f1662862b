import { z } from 'zod';
import { ArtifactRef } from './artifact';
import { Approval } from './gates';
import { CheckReport } from './checks';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A raw input read from outside the store (a hub dataset or model, a shared file), with the digest of
 * what was read. For a local file it is the sha256 of its bytes, for a directory the store's manifest
 * digest; for a hub repo read online it is sha256("hf-revision:<repo>@<commit>:<path>"), and `revision`
 * names the commit, because the hub serves one commit's files and we do not download them to hash.
 */
export const SourceDigest = z.object({
  uri: z.string(),
  sha256: Sha256,
  revision: z.string().optional().describe('hub commit sha the digest stands for (hf:// read online)'),
});
export type SourceDigest = z.infer<typeof SourceDigest>;

/**
 * What the activities of one name cost a stage, folded over all their calls: a fan-out of thousands of
 * shards stays one row. `attempts` counts every try (a call's final attempt number), `retries` the calls
 * that needed more than one; `seconds` and `gpu_seconds` cover the attempt that succeeded, since a
 * failed attempt reports nothing.
 */
export const ActivitySummary = z.object({
  activity: z.string(),
  count: z.number().int().nonnegative(),
  attempts: z.number().int().nonnegative(),
  retries: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  gpu_seconds: z.number().nonnegative(),
});
export type ActivitySummary = z.infer<typeof ActivitySummary>;

export const LineageParent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('artifact'), sha256: z.string() }),
  z.object({ kind: z.literal('source'), uri: z.string(), sha256: Sha256, revision: z.string().optional() }),
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
    /** The GPU activities the stage ran, by name. */
    activities: z.array(ActivitySummary),
  }),
  /** Sum of the producer's activities' GPU-seconds: what the artifact cost. */
  gpu_seconds: z.number().nonnegative(),
  /** The producing stage's figures: what it measured, and what it had to adapt (oom_halvings). */
  metrics: z.record(z.string(), z.number()),
  /** The stage was forced to recompute (--no-cache, --rerun) rather than run because nothing was cached. */
  forced: z.boolean(),
  parents: z.array(LineageParent),
  /** The approval gates that released the producing stage (who let it run, having seen what). */
  approvals: z.array(Approval).optional(),
  /** The check decisions that chose what the producing stage read (the BF16 teacher over the FP8 one). */
  decisions: z.array(CheckReport).optional(),
  config: z.unknown(),
  started_at: z.string(),
  ended_at: z.string(),
});
export type LineageRecord = z.infer<typeof LineageRecord>;
export type LineageParent = z.infer<typeof LineageParent>;
