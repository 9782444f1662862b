// Activities that open and close every stage: the stage key, the cache lookup, the manifest.
// A cache hit is answered here, on the CPU queue, so a finished stage never wakes a GPU queue.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { CloseStageInput, OpenStageInput, type OpenStageOutput, type SourceCheck } from '../contracts/campaign';
import { nonRetryableErrorTypes } from '../contracts/errors';
import type { SourceDigest } from '../contracts/lineage';
import type { Approval } from '../contracts/gates';
import type { CheckReport } from '../contracts/checks';
import { stageKey } from './stage-key';
import { lineageRecords } from './lineage-records';
import { activeHubMirror, storeLayout } from './store';
import { parseOrBadInput } from './parse-input';
import { createSourceDigests, isArtifactDigest, type SourceDigestDeps } from './source-digests';
import { checkSourceShape } from './source-shapes';
import { createHubLookup } from './hub-revision-lookup';
import { namingField } from './source-errors';

export interface StageManifest {
  stage_key: string;
  stage: string;
  config: unknown;
  inputs: string[];
  output: unknown;
  produced_by: { campaign_id: string; workflow_id: string; run_id: string; code_version: string };
  forced: boolean;
  /** Who approved the gates that released the stage, having seen which preview. */
  approvals?: Approval[];
  /** The check decisions that chose what it read. */
  decisions?: CheckReport[];
  started_at: string;
  ended_at: string;
}

/** `store` holds manifests and lineage; the other deps say how raw sources are digested (hub mirror, hub API). */
export type StageCacheDeps = SourceDigestDeps;

export function createStageCacheActivities(deps: StageCacheDeps) {
  const { store } = deps;
  const hub = createHubLookup(deps);
  const digestSource = createSourceDigests(deps, hub);

  return {
    async openStage(raw: OpenStageInput): Promise<OpenStageOutput> {
      const input = parseOrBadInput(OpenStageInput, raw, 'openStage');
      const sources = await resolveSources(input.stage, input.inputs, input.checks, digestSource);
      // Each source is checked at the commit its digest names, so the shape and the key speak of the same files.
      const shapes = { store, mirror: activeHubMirror(deps.hubMirror), hub };
      const revisionOf = (uri: string) => sources.find((s) => s.uri === uri)?.revision;
      const check = (c: SourceCheck) => checkSourceShape(c, shapes, revisionOf(c.uri)).catch((e: unknown) => Promise.reject(namingField(e, c.uri, [c])));
      await typed(input.stage, Promise.all(input.checks.map(check)));
      const key = stageKey({ stage: input.stage, config: input.config, inputs: input.inputs, sources, runner_version: input.runner_version });
      if (input.forced) {
        // Named by the stage workflow's run: a retry of this activity, or a replay, lands on the same prefix.
        const run = Context.current().info.workflowExecution?.runId;
        if (!run) throw new Error('openStage: a forced stage opens from its stage workflow, whose run names the fresh prefix');
        return { stage_key: key, output_prefix: storeLayout.forcedPrefix(input.store_root, input.stage, key, run), sources };
      }
      const output_prefix = storeLayout.stagePrefix(input.store_root, input.stage, key);
      const manifest = storeLayout.manifest(input.store_root, key);
      if (await store.exists(manifest)) {
        const found = JSON.parse((await store.getBytes(manifest)).toString('utf8')) as StageManifest;
        if (found.stage_key !== key) {
          throw ApplicationFailure.nonRetryable(`${manifest} names stage key ${found.stage_key}: the cache is corrupt; delete the file`, 'ArtifactCorrupt');
        }
        const { campaign_id, workflow_id } = found.produced_by;
        return { stage_key: key, output_prefix, sources, cached_output: found.output, produced_by: { campaign_id, workflow_id } };
      }
      return { stage_key: key, output_prefix, sources };
    },

    async closeStage(raw: CloseStageInput): Promise<void> {
      const input = parseOrBadInput(CloseStageInput, raw, 'closeStage');
      const manifest: StageManifest = {
        stage_key: input.stage_key,
        stage: input.stage,
        config: input.config,
        inputs: input.inputs,
        output: input.output,
        produced_by: {
          campaign_id: input.campaign_id,
          workflow_id: input.workflow_id,
          run_id: input.run_id,
          code_version: input.code_version,
        },
        forced: input.forced,
        ...(input.approvals && { approvals: input.approvals }),
        ...(input.decisions && { decisions: input.decisions }),
        started_at: input.started_at,
        ended_at: new Date().toISOString(),
      };
      // Lineage first, manifest last: a manifest (the cache entry) never exists without its lineage.
      for (const record of lineageRecords(input, manifest.ended_at)) {
        await store.putBytes(storeLayout.lineage(input.store_root, record.artifact.sha256), JSON.stringify(record, null, 2));
      }
      await store.putBytes(storeLayout.manifest(input.store_root, input.stage_key), JSON.stringify(manifest, null, 2));
    },
  };
}

/**
 * One digest per distinct source URI among `inputs`, in their order. Typed errors become failures of
 * their type (bad input stops the stage, a hub outage is retried), named after the stage and the
 * recipe field of the source (`checks`).
 */
async function resolveSources(stage: string, inputs: string[], checks: SourceCheck[], digestSource: (uri: string) => Promise<SourceDigest>): Promise<SourceDigest[]> {
  const uris = [...new Set(inputs.filter((i) => !isArtifactDigest(i)))];
  const digest = (uri: string) => digestSource(uri).catch((e: unknown) => Promise.reject(namingField(e, uri, checks)));
  return typed(stage, Promise.all(uris.map(digest)));
}

/** Typed errors (store, digests, shapes) become failures of their type, named after the stage. */
async function typed<T>(stage: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const type = (error as { halaType?: string } | undefined)?.halaType;
    if (!(error instanceof Error) || !type) throw error;
    const message = `openStage ${stage}: ${error.message}`;
    throw ApplicationFailure.create({ type, nonRetryable: nonRetryableErrorTypes.includes(type), message, cause: error });
  }
}
