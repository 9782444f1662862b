import type { ArtifactRef } from '../../contracts/artifact';
import type { TrainSftOutput } from '../../contracts/gpu-activities';
import type { TrainKnobs } from '../../contracts/stages/train-knobs';
import { summarizeRuns } from '../activity-summaries';
import type { StageIo, StageWork } from './declaration';
import { fieldOf } from './sources';

/** Supervised fine-tuning on the train queue: the work of the translator and of every student. */
export async function trainOn(io: StageIo, dataset: ArtifactRef, s: { knobs: TrainKnobs; seed: number }): Promise<StageWork<TrainSftOutput>> {
  // The runner's errors about the base (a chat template it cannot train) name the recipe line to change.
  const base_field = fieldOf(io.sources, s.knobs.base);
  const out = await io.gpu.train_sft({ stage_key: io.stage_key, output_prefix: io.output_prefix, dataset, seed: s.seed, knobs: s.knobs, ...(base_field ? { base_field } : {}) });
  return {
    output: out,
    artifacts: [out.model],
    metrics: {
      steps: out.steps,
      final_loss: out.final_loss,
      resumed_from_step: out.resumed_from_step,
      // Shown (and kept in the manifest) only when out-of-memory retries changed the batch.
      ...(out.oom_halvings > 0 ? { oom_halvings: out.oom_halvings, per_device_batch_size: out.per_device_batch_size } : {}),
      // Kept in the manifest and every lineage record only when no template could mask the replies:
      // the loss then fell on each chat's last reply (training_template.py); the template is in the output.
      ...(out.training_template?.loss === 'completion_only' ? { completion_only_loss: 1 } : {}),
    },
    activities: summarizeRuns([out]),
  };
}
