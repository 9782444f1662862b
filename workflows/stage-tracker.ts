// The campaign's view of its stages, for the progress query and the final summary.
import { ApplicationFailure } from '@temporalio/workflow';
import type { CampaignProgress, StageReport } from '../contracts/campaign';
import type { StageOutcome } from './stages/declaration';
import type { ParentStage } from './stage-story';
import { stageWorkflowId } from './fan-out-ids';

export class StageTracker {
  private readonly stages = new Map<string, StageReport>();

  constructor(private readonly campaignId: string) {}

  workflowId(stage: string): string {
    return stageWorkflowId(this.campaignId, stage);
  }

  planned(stage: string, kind: string): void {
    this.stages.set(stage, { stage, kind, workflow_id: this.workflowId(stage), status: 'pending', artifacts: [], metrics: {}, forced: false });
  }

  started(stage: string, forced: boolean): void {
    this.update(stage, { status: 'running', forced, started_at: new Date().toISOString() });
  }

  finished(stage: string, outcome: StageOutcome<unknown>): void {
    this.update(stage, {
      status: outcome.cached ? 'cached' : 'completed',
      stage_key: outcome.stage_key,
      artifacts: outcome.artifacts,
      metrics: outcome.metrics,
      ended_at: new Date().toISOString(),
      ...(outcome.computed_by && { computed_by: outcome.computed_by }),
    });
  }

  failed(stage: string, error: unknown): void {
    const { type, message } = rootCause(error);
    this.update(stage, { status: 'failed', error: message, error_type: type, ended_at: new Date().toISOString() });
  }

  cancelled(stage: string): void {
    this.update(stage, { status: 'cancelled', ended_at: new Date().toISOString() });
  }

  /** The finished stages that produced the artifacts in `upstream` (the values of a stage's upstream object). */
  parentsOf(upstream: object): ParentStage[] {
    const wanted = Object.values(upstream).filter((v): v is { uri: string; sha256: string } => typeof v?.sha256 === 'string');
    return wanted.flatMap((a) => {
      const from = [...this.stages.values()].find((s) => s.artifacts.some((x) => x.sha256 === a.sha256));
      return from ? [{ stage: from.stage, workflow_id: from.workflow_id, uri: a.uri, sha256: a.sha256 }] : [];
    });
  }

  running(): string[] {
    return [...this.stages.values()].filter((s) => s.status === 'running').map((s) => s.workflow_id);
  }

  snapshot(state: CampaignProgress['state']): CampaignProgress {
    return { campaign_id: this.campaignId, state, stages: [...this.stages.values()] };
  }

  private update(stage: string, patch: Partial<StageReport>): void {
    const current = this.stages.get(stage);
    if (!current) throw new Error(`stage ${stage} is not in the campaign's plan`);
    this.stages.set(stage, { ...current, ...patch });
  }
}

/**
 * What went wrong, from the innermost failure that has a type: a child workflow's failure wraps the
 * activity's, which wraps the runner's typed error (BadInput, Stalled, RunnerFailed, ...).
 */
function rootCause(error: unknown): { type?: string; message: string } {
  let found: { type?: string; message: string } = { message: error instanceof Error ? error.message : String(error) };
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure) found = { type: e.type ?? undefined, message: e.message };
    else if (!found.type) found = { message: e.message };
  }
  return found;
}
