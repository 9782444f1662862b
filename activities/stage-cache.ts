// Activities that open and close every stage: the stage key, the cache lookup, the manifest.
// A cache hit is answered here, on the CPU queue, so a finished stage never wakes a GPU queue.
import { ApplicationFailure } from '@temporalio/activity';
import { CloseStageInput, OpenStageInput, type OpenStageOutput } from '../contracts/campaign';
import type { ArtifactStore } from './store';
import { manifestUri, stageKey, stagePrefix } from './stage-key';
import { lineageRecords, lineageUri } from './lineage-records';
import { parseOrBadInput } from './parse-input';

export interface StageManifest {
  stage_key: string;
  stage: string;
  config: unknown;
  inputs: string[];
  output: unknown;
  produced_by: { campaign_id: string; workflow_id: string; run_id: string; code_version: string };
  started_at: string;
  ended_at: string;
}

export function createStageCacheActivities({ store }: { store: ArtifactStore }) {
  return {
    async openStage(raw: OpenStageInput): Promise<OpenStageOutput> {
      const input = parseOrBadInput(OpenStageInput, raw, 'openStage');
      const key = stageKey({ stage: input.stage, config: input.config, inputs: input.inputs, runner_version: input.runner_version });
      const output_prefix = stagePrefix(input.store_root, input.stage, key);
      const manifest = manifestUri(input.store_root, key);
      if (input.use_cache && (await store.exists(manifest))) {
        const found = JSON.parse((await store.getBytes(manifest)).toString('utf8')) as StageManifest;
        if (found.stage_key !== key) {
          throw ApplicationFailure.nonRetryable(`${manifest} names stage key ${found.stage_key}: the cache is corrupt; delete the file`, 'ArtifactCorrupt');
        }
        return { stage_key: key, output_prefix, cached_output: found.output };
      }
      return { stage_key: key, output_prefix };
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
        started_at: input.started_at,
        ended_at: new Date().toISOString(),
      };
      // Lineage first, manifest last: a manifest (the cache entry) never exists without its lineage.
      for (const record of lineageRecords(input, manifest.ended_at)) {
        await store.putBytes(lineageUri(input.store_root, record.artifact.sha256), JSON.stringify(record, null, 2));
      }
      await store.putBytes(manifestUri(input.store_root, input.stage_key), JSON.stringify(manifest, null, 2));
    },
  };
}
