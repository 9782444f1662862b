// The shape every stage child workflow shares: open (key + cache lookup), work, close (manifest).
import { upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { HalaStageKey } from '../contracts/search-attributes';
import type { ArtifactRef } from '../contracts/artifact';
import type { ActivityRun } from '../contracts/gpu-activities';
import type { ActivitySummary, SourceDigest } from '../contracts/lineage';
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
  /** The GPU activities the work ran, folded by name (summarizeRuns): lineage's producer and GPU cost. */
  activities?: ActivitySummary[];
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
  const worked = await work(opened);
  // The sources openStage digested (they are in the key), then any the work itself reported.
  const sources = mergeSources(opened.sources ?? [], worked.sources ?? []);
  const activities = worked.activities ?? [];
  const result: StageWork<O> = { ...worked, sources, activities };
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
    sources,
    activities,
    campaign_id: ctx.campaign_id,
    workflow_id: info.workflowId,
    run_id: info.runId,
    code_version: ctx.code_version,
    started_at: startedAt,
  });
  return { ...result, stage: spec.stage, stage_key: opened.stage_key, cached: false };
}

/** One digest per URI; a digest the work reported for what it actually read wins over openStage's. */
function mergeSources(opened: SourceDigest[], reported: SourceDigest[]): SourceDigest[] {
  const byUri = new Map<string, SourceDigest>();
  for (const s of [...opened, ...reported]) byUri.set(s.uri, s);
  return [...byUri.values()];
}

/**
 * Folds the `run` that GPU activity outputs carry into one row per activity name, sorted by name, added
 * to `into` (not modified). Outputs without a run (a runner that predates the field) are skipped.
 */
export function summarizeRuns(outputs: readonly { run?: ActivityRun }[], into: readonly ActivitySummary[] = []): ActivitySummary[] {
  const rows = outputs.flatMap(({ run }) =>
    run ? [{ activity: run.activity, count: 1, attempts: run.attempt, retries: run.attempt > 1 ? 1 : 0, seconds: run.seconds, gpu_seconds: run.gpu_seconds }] : [],
  );
  return combineActivities(into, rows);
}

/** Adds summaries of the same activities up (child workflows, several measurements of one stage). */
export function combineActivities(...lists: readonly (readonly ActivitySummary[] | undefined)[]): ActivitySummary[] {
  const rows = new Map<string, ActivitySummary>();
  for (const a of lists.flatMap((l) => l ?? [])) {
    const row = rows.get(a.activity);
    rows.set(
      a.activity,
      row
        ? {
            activity: a.activity,
            count: row.count + a.count,
            attempts: row.attempts + a.attempts,
            retries: row.retries + a.retries,
            seconds: row.seconds + a.seconds,
            gpu_seconds: row.gpu_seconds + a.gpu_seconds,
          }
        : { ...a },
    );
  }
  return sorted(rows);
}

const sorted = (rows: Map<string, ActivitySummary>) => [...rows.values()].sort((a, b) => (a.activity < b.activity ? -1 : a.activity > b.activity ? 1 : 0));

const digests = (work: StageWork<unknown>) => work.artifacts.map((a) => `${a.sha256.slice(0, 16)} ${a.uri}`);

/** The prompt with the language filled in; `{text}` stays for the runner. */
export function promptFor(template: string, languageName: string): string {
  return template.split('{target_name}').join(languageName);
}
