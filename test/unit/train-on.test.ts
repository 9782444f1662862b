// The training stages hand the train runner the recipe field of their base, so a base whose chat
// template the runner refuses is named by its recipe line; a run that fell back to completion-only
// loss says so in its metrics (manifest and lineage). Issue 22, finding 5.
import { describe, expect, it } from 'vitest';
import type { ArtifactRef } from '../../contracts/artifact';
import type { SourceCheck } from '../../contracts/campaign';
import type { TrainSftInput, TrainSftOutput } from '../../contracts/gpu-activities';
import { pinHubRevision } from '../../contracts/hub-revision';
import { TrainKnobs } from '../../contracts/stages/train-knobs';
import type { StageIo } from '../../workflows/stages/declaration';
import { sftStage } from '../../workflows/stages/sft';
import { trainTranslatorStage } from '../../workflows/stages/train-translator';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const corpus: ArtifactRef = { uri: 'file:///store/corpus.parquet', sha256: 'c'.repeat(64), kind: 'dataset', bytes: 1 };
const ref = (name: string): ArtifactRef => ({ uri: `file:///store/${name}`, sha256: 'd'.repeat(64), kind: 'model', bytes: 1 });

/** A stage's work as run-stage.ts runs it: its declared sources at hand, its base pinned to the commit it opened at. */
async function work(stage: typeof sftStage, index: number, base: string, template?: TrainSftOutput['training_template']) {
  const slice = { knobs: TrainKnobs.parse({ base }), seed: 0 };
  const sources = stage.inputs(slice, { corpus }, index).filter((r): r is SourceCheck => typeof r !== 'string');
  let handed: TrainSftInput | undefined;
  const io = {
    stage_key: 'k',
    output_prefix: 'file:///store/sft',
    sources,
    gpu: {
      train_sft: async (input: TrainSftInput): Promise<TrainSftOutput> => {
        handed = input;
        return {
          model: ref('model'), steps: 8, final_loss: 1, resumed_from_step: 0, seconds: 1, per_device_batch_size: 4,
          gradient_accumulation_steps: 1, oom_halvings: 0, ...(template ? { training_template: template } : {}),
          run: { activity: 'train_sft', activity_id: '1', attempt: 1, worker: 'w', device: 'cpu', gpus: 0, started_at: '', ended_at: '', seconds: 1, gpu_seconds: 0 },
        };
      },
    },
  } as unknown as StageIo;
  const pinned = { ...slice, knobs: { ...slice.knobs, base: pinHubRevision(base, COMMIT) } };
  const worked = await stage.work(io, pinned, { corpus });
  return { handed: handed!, metrics: worked.metrics };
}

describe('the training stages and their base', () => {
  it('hand the runner the recipe field of the base, the hub source matched through its pinned commit', async () => {
    const sft = await work(sftStage, 3, 'hf://QCRI/Fanar-1-9B-Instruct');
    expect(sft.handed.knobs.base).toBe(`hf://QCRI/Fanar-1-9B-Instruct@${COMMIT}`);
    expect(sft.handed.base_field).toBe('stages.sft.students[3].base');
    expect((await work(trainTranslatorStage, 0, 'file:///models/lfm2')).handed.base_field).toBe('stages.train_translator.base');
  });

  it('record completion-only loss in the metrics, and nothing when the replies were masked', async () => {
    const fallback = await work(sftStage, 0, 'hf://org/m', { template: 'base', loss: 'completion_only' });
    expect(fallback.metrics).toMatchObject({ completion_only_loss: 1 });
    const masked = await work(sftStage, 0, 'hf://org/m', { template: 'hala:fanar', loss: 'assistant_only' });
    expect(masked.metrics).not.toHaveProperty('completion_only_loss');
  });
});
