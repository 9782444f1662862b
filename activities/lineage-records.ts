import type { CloseStageInput } from '../contracts/campaign';
import type { LineageParent, LineageRecord } from '../contracts/lineage';

const isDigest = (s: string) => /^[0-9a-f]{64}$/.test(s);

/** `lineage/<sha256>.json` below the store root. */
export function lineageUri(root: string, sha256: string): string {
  return `${root.replace(/\/+$/, '')}/lineage/${sha256}.json`;
}

/** One record per artifact a stage produced; its parents are the stage's inputs. */
export function lineageRecords(input: CloseStageInput, endedAt: string): LineageRecord[] {
  const sourceDigest = new Map(input.sources.map((s) => [s.uri, s.sha256]));
  const parents: LineageParent[] = input.inputs.map((i) =>
    isDigest(i) ? { kind: 'artifact', sha256: i } : { kind: 'source', uri: i, sha256: sourceDigest.get(i) },
  );
  return input.artifacts.map((artifact) => ({
    artifact,
    stage: input.stage,
    stage_key: input.stage_key,
    producer: {
      campaign_id: input.campaign_id,
      workflow_id: input.workflow_id,
      run_id: input.run_id,
      code_version: input.code_version,
    },
    parents,
    config: input.config,
    started_at: input.started_at,
    ended_at: endedAt,
  }));
}
