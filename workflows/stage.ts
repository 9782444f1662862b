// The shape every stage child workflow shares: open (key + cache lookup), work, close (manifest).
import { upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { HalaStageKey } from '../contracts/search-attributes';
import type { ArtifactRef } from '../contracts/artifact';
import type { SourceDigest } from '../contracts/lineage';
import type { Recipe } from '../contracts/recipe';
import { cpuActivities } from './activity-proxies';

/** What the campaign hands every stage workflow. */
export interface StageContext {
  campaign_id: string;
  recipe: Recipe;
  store_root: string;
  use_cache: boolean;
  rerun: string[];
  code_version: string;
  recipe_sha256: string;
}

/** What a stage's work returns: its payload, the artifacts to show, the figures to report. */
export interface StageWork<O> {
  output: O;
  artifacts: ArtifactRef[];
  metrics: Record<string, number>;
  /** Digests of raw sources read (for lineage), when the activities report them. */
  sources?: SourceDigest[];
}

export interface StageOutcome<O> extends StageWork<O> {
  stage: string;
  stage_key: string;
  cached: boolean;
}

export interface StageSpec {
  stage: string;
  /** The stage's resolved knobs; any change re-runs the stage and what depends on it. */
  config: unknown;
  /** Digests of input artifacts, or stable ids of external sources. */
  inputs: string[];
}

export async function runStage<O>(
  ctx: StageContext,
  spec: StageSpec,
  work: (opened: { stage_key: string; output_prefix: string }) => Promise<StageWork<O>>,
): Promise<StageOutcome<O>> {
  const cpu = cpuActivities(ctx.recipe);
  const startedAt = new Date().toISOString();
  const opened = await cpu.openStage({
    store_root: ctx.store_root,
    stage: spec.stage,
    config: spec.config,
    inputs: spec.inputs,
    runner_version: ctx.code_version,
    use_cache: ctx.use_cache && !ctx.rerun.includes(spec.stage),
  });
  upsertSearchAttributes([{ key: HalaStageKey, value: opened.stage_key }]);
  if (opened.cached_output !== undefined) {
    const cached = opened.cached_output as StageWork<O>;
    upsertMemo({ stage_key: opened.stage_key, cached: true, artifacts: digests(cached), metrics: cached.metrics });
    return { ...cached, stage: spec.stage, stage_key: opened.stage_key, cached: true };
  }
  const result = await work(opened);
  // The summary an operator sees on the workflow's page, without opening any payload.
  upsertMemo({ stage_key: opened.stage_key, cached: false, artifacts: digests(result), metrics: result.metrics });
  const info = workflowInfo();
  await cpu.closeStage({
    store_root: ctx.store_root,
    stage: spec.stage,
    stage_key: opened.stage_key,
    config: spec.config,
    inputs: spec.inputs,
    output: result,
    artifacts: result.artifacts,
    sources: result.sources ?? [],
    campaign_id: ctx.campaign_id,
    workflow_id: info.workflowId,
    run_id: info.runId,
    code_version: ctx.code_version,
    started_at: startedAt,
  });
  return { ...result, stage: spec.stage, stage_key: opened.stage_key, cached: false };
}

const digests = (work: StageWork<unknown>) => work.artifacts.map((a) => `${a.sha256.slice(0, 16)} ${a.uri}`);

/** The prompt with the language filled in; `{text}` stays for the runner. */
export function promptFor(template: string, languageName: string): string {
  return template.split('{target_name}').join(languageName);
}
