import { z } from 'zod';
import { ArtifactRef, StoreUri } from './artifact';
import { Recipe } from './recipe';
import { ActivitySummary, SourceDigest } from './lineage';
import { Approval, GateReport } from './gates';
import { BudgetReport, PlannedSpend } from './budget';
import { CheckReport, PlannedRows } from './checks';

/** What `hala run` starts: the parsed recipe plus where and how to run it. */
export const CampaignInput = z.object({
  campaign_id: z.string().min(1),
  recipe: Recipe,
  recipe_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The recipe's store root made absolute by the CLI (file:///abs/path or s3://...). */
  store_root: StoreUri,
  /** Finished stages are taken from their manifests instead of being run again. */
  use_cache: z.boolean().default(true),
  /** Stage names to run again even when a manifest exists (the CLI checks them against the plan). */
  rerun: z.array(z.string()).default([]),
  code_version: z.string(),
  /**
   * The stages of the plan's critical path (cli/plan/estimate.ts) when the campaign was started: they
   * run one priority key higher. Empty when the plan lacks the estimates to find it.
   */
  critical_path: z.array(z.string()).default([]),
  /** `hala plan`'s figures of each stage when the recipe sets a budget (cli/start-campaign.ts): the campaign projects its running stages' spend with them. */
  planned_spend: PlannedSpend.optional(),
  /** `hala plan`'s rows of each stage when the recipe declares checks: what an `of_plan` bound is a fraction of. */
  planned_rows: PlannedRows.optional(),
});
export type CampaignInput = z.infer<typeof CampaignInput>;

/** `cancelled`: it was running when the campaign was cancelled (`hala cancel`); `pending` ones never started. */
export const StageStatus = z.enum(['pending', 'running', 'cached', 'completed', 'failed', 'cancelled']);

/** One row of the progress query and of the final summary. */
export const StageReport = z.object({
  stage: z.string(),
  /** The declaration the stage comes from (workflows/stages): `sft` for every `sft-<student>`. */
  kind: z.string(),
  workflow_id: z.string(),
  status: StageStatus,
  stage_key: z.string().optional(),
  artifacts: z.array(ArtifactRef).default([]),
  metrics: z.record(z.string(), z.number()).default({}),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
  error: z.string().optional(),
  /** The failure's type (BadInput, Stalled, RunnerFailed, ...), from the innermost typed cause. */
  error_type: z.string().optional(),
  /** Run afresh under a prefix of its own (--no-cache, --rerun) instead of taken from the cache or resumed. */
  forced: z.boolean(),
  /** A cached stage computed by another campaign (its manifest's produced_by): that campaign's id. */
  computed_by: z.string().optional(),
});
export type StageReport = z.infer<typeof StageReport>;
export type StageStatus = z.infer<typeof StageStatus>;

export const CampaignProgress = z.object({
  campaign_id: z.string(),
  state: z.enum(['running', 'paused', 'completed', 'failed', 'cancelled']),
  stages: z.array(StageReport),
  /** The recipe's approval gates and where each stands; absent when it declares none. */
  gates: z.array(GateReport).optional(),
  /** The recipe's budget: spend, projection, caps and any stages held at a cap; absent when it sets none. */
  budget: BudgetReport.optional(),
  /** The recipe's checks as judged so far, with the figures and what each decided; absent when it declares none. */
  checks: z.array(CheckReport).optional(),
});
export type CampaignProgress = z.infer<typeof CampaignProgress>;

/** A raw source a stage reads, with the recipe field it comes from and what it must be. */
export const SourceCheck = z.object({
  uri: z.string(),
  field: z.string().describe('recipe path, e.g. inputs.teacher: what errors name'),
  /** model: a directory with config.json and weights; dataset: a parquet split; file: one file (a language-id model.bin). */
  kind: z.enum(['model', 'dataset', 'file']),
});
export type SourceCheck = z.infer<typeof SourceCheck>;

/** Every stage runs inside a child workflow that opens and closes its stage through these. */
export const OpenStageInput = z.object({
  store_root: StoreUri,
  stage: z.string(),
  /** The stage's resolved knobs: part of the key. */
  config: z.unknown(),
  /**
   * Digests of the store artifacts the stage reads, and the URIs (hf://, file://) of raw sources:
   * openStage resolves a digest for each source, and those digests enter the key.
   */
  inputs: z.array(z.string()),
  /** The raw sources among `inputs`, checked for their shape (a model directory, a parquet split) before the stage runs. */
  checks: z.array(SourceCheck),
  runner_version: z.string(),
  /**
   * Recompute: skip the cache and write below a fresh prefix (storeLayout.forcedPrefix), so nothing an
   * earlier run left there (checkpoints, partial chunks) is adopted.
   */
  forced: z.boolean(),
});
export const OpenStageOutput = z.object({
  stage_key: z.string(),
  output_prefix: StoreUri,
  /** One digest per distinct source URI of `inputs`, in their order. */
  sources: z.array(SourceDigest),
  /** The finished stage's output when a manifest exists and the cache is on. */
  cached_output: z.unknown().optional(),
  /** With cached_output: the campaign and stage workflow that computed it (the manifest's produced_by). */
  produced_by: z.object({ campaign_id: z.string(), workflow_id: z.string() }).optional(),
});
export const CloseStageInput = z.object({
  store_root: StoreUri,
  stage: z.string(),
  stage_key: z.string(),
  config: z.unknown(),
  inputs: z.array(z.string()),
  output: z.unknown(),
  /** The stage's artifacts: each gets a lineage record. */
  artifacts: z.array(ArtifactRef),
  /** Digests of the raw sources the stage read (hub datasets, the teacher), for lineage. */
  sources: z.array(SourceDigest),
  /** The GPU activities the stage ran, folded by name, for the lineage record's producer. */
  activities: z.array(ActivitySummary),
  /** The stage's figures, recorded with each artifact (how training adapted to memory, for one). */
  metrics: z.record(z.string(), z.number()),
  forced: z.boolean(),
  campaign_id: z.string(),
  workflow_id: z.string(),
  run_id: z.string(),
  code_version: z.string(),
  started_at: z.string(),
  /** The gate approvals that released the stage: into its manifest and lineage, never its key. */
  approvals: z.array(Approval).optional(),
  /** The check decisions that chose what the stage read (contracts/checks.ts): into its manifest and lineage; the choice itself changed its inputs, hence its key. */
  decisions: z.array(CheckReport).optional(),
});
export type OpenStageInput = z.infer<typeof OpenStageInput>;
export type OpenStageOutput = z.infer<typeof OpenStageOutput>;
export type CloseStageInput = z.infer<typeof CloseStageInput>;
