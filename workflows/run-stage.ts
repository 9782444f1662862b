// The shape every stage child workflow shares: open (key + cache lookup), work, close (manifest).
// A declaration (workflows/stages) runs through it as the workflow of its type (stage-workflow.ts).
import { executeChild, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SupervisionOverrides } from '../contracts/activity-progress';
import { steerSupervisionSignal, supervisionQuery } from './definitions';
import { HalaStageKey } from '../contracts/search-attributes';
import type { SourceDigest } from '../contracts/lineage';
import { cpuActivities } from './activity-proxies';
import { fanOutWorkflowId } from './fan-out-ids';
import { pinSources } from './pin-sources';
import { requireOwnRelease } from './release-guard';
import { holdOrTakeOver } from './stage-claim';
import { StageStatus } from './stage-status';
import { modelName, workflowLink } from './stage-story';
import { watchedGpu } from './watched-gpu';
import type { StageDeclaration, StageInput, StageInputRef, StageIo, StageOutcome, StageWork } from './stages/declaration';
import { translateCorpus } from './translate-corpus';
import { translateThroughCache } from './cached-translation';

export async function runStage<S, U, O>(declaration: StageDeclaration<S, U, O>, input: StageInput<S, U>): Promise<StageOutcome<O>> {
  const { runtime, stage, index, slice, upstream } = input;
  requireOwnRelease(runtime.code_version, `stage ${stage} of campaign ${runtime.campaign_id}`);
  // Limits an operator steers while the stage runs; its GPU activities ask for them (live_limits.py).
  let steered: SupervisionOverrides = {};
  setHandler(steerSupervisionSignal, (overrides) => void (steered = { ...steered, ...overrides }));
  setHandler(supervisionQuery, () => steered);
  const cpu = cpuActivities(runtime, stage);
  const startedAt = new Date().toISOString();
  const status = new StageStatus(input.parents);
  // The key material: the stage's name, its slice of the recipe, its inputs. Nothing else.
  const refs = declaration.inputs(slice, upstream, index);
  const inputs = refs.map((r) => (typeof r === 'string' ? r : r.uri));
  const checks = refs.filter((r) => typeof r !== 'string');
  const openInput = {
    store_root: runtime.store_root,
    stage,
    config: slice,
    inputs,
    checks,
    runner_version: runtime.code_version,
    forced: runtime.forced,
  };
  const first = await cpu.openStage(openInput);
  upsertSearchAttributes([{ key: HalaStageKey, value: first.stage_key }]);
  const forced = runtime.forced;
  // Another campaign computing this key on this store: wait for it and take its manifest (stage-claim.ts).
  const opened = forced ? first : await holdOrTakeOver(first, { runtime, stage, status, reopen: () => cpu.openStage(openInput) });
  if (opened.cached_output !== undefined) {
    const cached = opened.cached_output as StageWork<O>;
    const by = opened.produced_by?.campaign_id;
    const computed_by = by !== undefined && by !== runtime.campaign_id ? by : undefined;
    upsertMemo({ stage_key: opened.stage_key, cached: true, forced, artifacts: digests(cached), metrics: cached.metrics, ...(computed_by && { computed_by }) });
    status.done({ cached: true, computed_by, stage_key: opened.stage_key, artifacts: cached.artifacts, metrics: cached.metrics, inputs: upstreamDigests(refs), sources: cached.sources ?? opened.sources });
    return { ...cached, stage, stage_key: opened.stage_key, cached: true, forced, ...(computed_by && { computed_by }) };
  }
  const stageWorkflowId = workflowInfo().workflowId;
  const io: StageIo = {
    cpu,
    gpu: watchedGpu(runtime, cpu, status, stage),
    stage_key: opened.stage_key,
    output_prefix: opened.output_prefix,
    sources: checks,
    sourceDigest: (uri) => {
      const found = opened.sources.find((d) => d.uri === uri);
      if (!found) throw new Error(`stage ${stage} read ${uri} without declaring it among its inputs: it would be missing from its key`);
      return found.sha256;
    },
    // Through the translation cache when the request asks (cached-translation.ts): only misses fan out.
    translate: (cached, part) => translateThroughCache({ cpu, runtime, stage_key: opened.stage_key }, cached, (request) => {
      const workflowId = fanOutWorkflowId(stageWorkflowId, part);
      const ended = status.fanOutStarted({ label: part ?? '', workflow_id: workflowId });
      return executeChild(translateCorpus, {
        workflowId,
        args: [{ ...request, runtime, stage_key: opened.stage_key }],
        // Its later runs (continue-as-new, which takes no priority in this SDK) keep it: the server copies it.
        priority: runtime.priority,
        staticSummary: `translate ${request.shard_count} shards${part ? ` of ${part}` : ''} with ${modelName(request.model)} for ${stage}`,
        staticDetails: `Translation fan-out of [${stage}](${workflowLink(workflowInfo().namespace, stageWorkflowId)}): ${request.shard_count} shards of \`${request.shard_list.uri}\`, ${runtime.fan_out.window} in flight, engine ${request.generation.engine}, batch ${request.generation.batch_size}.`,
      }).finally(ended);
    }),
  };
  status.setPhase('working');
  // A source on a branch (the hub's parquet conversion) is read at the commit its key names.
  // Upstream too: a raw source a check chose for it (the BF16 teacher) is read at the commit it was keyed on.
  const worked = await declaration.work(io, pinSources(slice, opened.sources), pinSources(upstream, opened.sources));
  // The sources openStage digested (they are in the key), then any the work itself reported.
  const sources = mergeSources(opened.sources, worked.sources ?? []);
  const activities = worked.activities ?? [];
  const result: StageWork<O> = { ...worked, sources, activities };
  // The summary an operator sees on the workflow's page, without opening any payload.
  upsertMemo({ stage_key: opened.stage_key, cached: false, forced, artifacts: digests(result), metrics: result.metrics });
  const info = workflowInfo();
  status.setPhase('closing (manifest and lineage into the store)');
  await cpu.closeStage({
    store_root: runtime.store_root,
    stage,
    stage_key: opened.stage_key,
    config: slice,
    inputs,
    output: result,
    artifacts: result.artifacts,
    sources,
    activities,
    metrics: result.metrics,
    forced,
    campaign_id: runtime.campaign_id,
    workflow_id: info.workflowId,
    run_id: info.runId,
    code_version: runtime.code_version,
    started_at: startedAt,
    ...(runtime.approvals && { approvals: runtime.approvals }),
    ...(runtime.decisions && { decisions: runtime.decisions }),
  });
  status.done({ cached: false, stage_key: opened.stage_key, artifacts: result.artifacts, metrics: result.metrics, inputs: upstreamDigests(refs), sources });
  return { ...result, stage, stage_key: opened.stage_key, cached: false, forced };
}

/** One digest per URI; a digest the work reported for what it actually read wins over openStage's. */
function mergeSources(opened: SourceDigest[], reported: SourceDigest[]): SourceDigest[] {
  const byUri = new Map<string, SourceDigest>();
  for (const s of [...opened, ...reported]) byUri.set(s.uri, s);
  return [...byUri.values()];
}

/** The stage's inputs that are upstream artifacts (digests); raw sources are listed with their own digests. */
const upstreamDigests = (refs: StageInputRef[]) => refs.filter((r): r is string => typeof r === 'string');

const digests = (work: StageWork<unknown>) => work.artifacts.map((a) => `${a.sha256.slice(0, 16)} ${a.uri}`);
