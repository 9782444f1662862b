// Stage 6, per student: supervised fine-tuning on the translated instruction corpus.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { TrainSftOutput } from '../../contracts/gpu-activities';
import type { StageDeclaration } from './declaration';
import { perStudent } from './students';
import { trainOn } from './train-on';
import type { TrainSlice } from './train-translator';
import { stageWorkflow } from '../run-stage';
import { model } from './sources';
import { trainFacts, trainLine } from './describe-helpers';
import { modelName } from '../stage-story';

export const sftStage: StageDeclaration<TrainSlice, { corpus: ArtifactRef }, TrainSftOutput> = {
  kind: 'sft',
  workflow: 'sft',
  count: perStudent.count,
  name: (r, i) => `sft-${perStudent.student(r, i).name}`,
  slice: (r, i) => {
    const { name: _name, ...knobs } = perStudent.student(r, i); // the name is the stage's, the runner takes training knobs
    return { knobs, seed: r.seed };
  },
  inputs: (s, up, i) => [up.corpus.sha256, model(s.knobs.base, `stages.sft.students[${i}].base`)],
  model: (r, i) => perStudent.student(r, i).base,
  headline: ['steps', 'final_loss', 'resumed_from_step', 'oom_halvings', 'per_device_batch_size', 'completion_only_loss'],
  describe: (r, i) => {
    const { name, ...k } = perStudent.student(r, i);
    return { summary: `sft ${name} — ${modelName(k.base)} on the translated instructions, ${trainLine(k)}`, facts: [['student', name], ...trainFacts(k)] };
  },
  placement: (r, i) => ({ train: classOf(r.resources, 'sft', perStudent.student(r, i).name) }),
  work: (io, s, up) => trainOn(io, up.corpus, s),
};

/** The workflow type `sft`: the declaration run as a child workflow of the campaign. */
export const sft = stageWorkflow(sftStage);
