import { z } from 'zod';
import { ArtifactRef } from './artifact';
import { StageKinds } from './stages';
import { CheckReport } from './checks';

// Approval gates: a recipe declares them, the campaign waits at each one with a preview of what the
// held stages will read, and an operator's approval (the `approve` update) lets them go on. The
// approval is recorded in the lineage of every artifact those stages produce.

const GateName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes');

/**
 * Most sample rows a gate shows per dataset. They travel in the campaign's history twice (the preview
 * activity's result, the approval's) and in every progress query: 20 conversations of 20 turns at 400
 * characters a cell stay well under Temporal's 2 MB payload limit.
 */
export const MAX_GATE_SAMPLES = 20;

export const Gate = z.strictObject({
  name: GateName.describe('what `hala approve <campaign> <name>` names'),
  before: z
    .enum(StageKinds)
    .describe(
      'stage kind the gate holds: no stage of this kind starts (for sft: no student) until the gate is approved. ' +
        'The gate holds once per campaign, even when those stages would be served from the cache',
    ),
  show: z
    .strictObject({
      samples: z.number().int().min(0).max(MAX_GATE_SAMPLES).default(5).describe('rows of each dataset the held stage reads, sampled with the recipe seed'),
    })
    .prefault({})
    .describe('what the approver sees besides the filter funnel (the corpus stages\' row counts)'),
});
export type Gate = z.infer<typeof Gate>;

/** One corpus stage's figures as the approver sees them: the funnel from raw pairs to training rows. */
export const FunnelStep = z.object({
  stage: z.string(),
  kind: z.string(),
  metrics: z.record(z.string(), z.number()),
});

export const SampledDataset = z.object({
  dataset: ArtifactRef,
  /** Rows sampled with the seed; long strings cut to MAX_SAMPLE_CHARS with an ellipsis. */
  rows: z.array(z.record(z.string(), z.unknown())),
});

/** What the approver sees at a gate; `sha256` digests the rest, and the approval records it. */
export const GatePreview = z.object({
  gate: z.string(),
  before: z.string(),
  funnel: z.array(FunnelStep),
  samples: z.array(SampledDataset),
  /** A hold check's figures, when the gate is a check's (contracts/checks.ts). */
  check: CheckReport.optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type GatePreview = z.infer<typeof GatePreview>;
export type FunnelStep = z.infer<typeof FunnelStep>;

/** The `approve` update's argument. */
export const ApproveInput = z.object({
  gate: z.string(),
  by: z.string(),
  note: z.string().optional(),
});
export type ApproveInput = z.infer<typeof ApproveInput>;

/**
 * An accepted approval: recorded in the progress, the stage manifests and the lineage records. A gate's
 * names the preview its approver saw; a budget raise (gate `budget`, contracts/budget.ts) the caps it set.
 */
export const Approval = z.object({
  gate: z.string(),
  by: z.string(),
  at: z.string(),
  note: z.string().optional(),
  /** Digest of the preview the approver was shown (GatePreview.sha256); absent on a budget raise. */
  preview_sha256: z.string().optional(),
  /** The caps a budget raise set (every cap of the budget after it). */
  budget: z.object({ cost_usd: z.number().optional(), gpu_hours: z.number().optional() }).optional(),
});
export type Approval = z.infer<typeof Approval>;

/** A gate in the campaign's progress: pending (not reached), waiting (preview ready), approved. */
export const GateReport = z.object({
  name: z.string(),
  before: z.string(),
  state: z.enum(['pending', 'waiting', 'approved']),
  preview: GatePreview.optional(),
  approval: Approval.optional(),
});
export type GateReport = z.infer<typeof GateReport>;

/** What `approve` returns: the approval, and the preview it approved. */
export const ApproveResult = z.object({
  approval: Approval.required({ preview_sha256: true }),
  before: z.string(),
  preview: GatePreview,
});
export type ApproveResult = z.infer<typeof ApproveResult>;
