import type { CloseStageInput } from '../contracts/campaign';
import type { LineageParent, LineageRecord } from '../contracts/lineage';
import { isArtifactDigest } from './source-digests';

/**
 * One record per artifact a stage produced; its parents are the stage's inputs, each source with the
 * digest openStage resolved for it. The producer's activities are the stage's, so every artifact of a
 * stage carries the stage's whole GPU cost (they were made together).
 */
export function lineageRecords(input: CloseStageInput, endedAt: string): LineageRecord[] {
  const sources = new Map(input.sources.map((s) => [s.uri, s]));
  const parents: LineageParent[] = input.inputs.map((i) => {
    if (isArtifactDigest(i)) return { kind: 'artifact', sha256: i };
    const found = sources.get(i);
    // openStage digests every source among the inputs; one missing here is a bug, not a gap to paper over.
    if (!found) throw new Error(`closeStage ${input.stage}: source ${i} has no digest from openStage`);
    return { kind: 'source', uri: i, sha256: found.sha256, ...(found.revision ? { revision: found.revision } : {}) };
  });
  const gpuSeconds = input.activities.reduce((sum, a) => sum + a.gpu_seconds, 0);
  return input.artifacts.map((artifact) => ({
    artifact,
    stage: input.stage,
    stage_key: input.stage_key,
    producer: {
      campaign_id: input.campaign_id,
      workflow_id: input.workflow_id,
      run_id: input.run_id,
      code_version: input.code_version,
      activities: input.activities,
    },
    gpu_seconds: gpuSeconds,
    forced: input.forced,
    metrics: input.metrics,
    parents,
    ...(input.approvals && { approvals: input.approvals }),
    ...(input.decisions && { decisions: input.decisions }),
    config: input.config,
    started_at: input.started_at,
    ended_at: endedAt,
  }));
}
