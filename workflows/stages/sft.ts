// Stage 6, per student: supervised fine-tuning on the translated instruction corpus.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { TrainSftOutput } from '../../contracts/gpu-activities';
import { everyStudent, type StageDeclaration } from './declaration';
import { perStudent } from './students';
import { trainOn } from './train-on';
import type { TrainSlice } from './train-translator';
import { model } from './sources';
import { trainFacts, trainLine } from './describe-helpers';
import { modelName } from '../stage-story';
import { mul, round } from './estimate-context';

export const sftStage: StageDeclaration<TrainSlice, { corpus: ArtifactRef }, TrainSftOutput> = {
  ...everyStudent('sft'),
  // The longest SFT first: one that draws the last slot of a busy queue trains alone at the end.
  listedOrder: true,
  slice: (r, i) => {
    const { name: _name, ...knobs } = perStudent.student(r, i); // the name is the stage's, the runner takes training knobs
    return { knobs, seed: r.seed };
  },
  inputs: (s, up, i) => [up.corpus.sha256, model(s.knobs.base, `stages.sft.students[${i}].base`)],
  model: (r, i) => perStudent.student(r, i).base,
  estimate: (x, r, i, up) => {
    const student = perStudent.student(r, i);
    const b = x.params(student.base);
    const samples = up.corpus.conversations;
    const tokens = mul(samples, Math.min(x.e.tokens.conversation, student.max_seq_len), student.epochs);
    return {
      reads: 'the translated conversations',
      rows_in: round(samples),
      unit: 'conversations',
      artifact_gb: mul(b, 2),
      gpu_hours: x.compute(mul(6, b, 1e9, tokens), x.pool('sft', student.name)),
      route: 'sft',
      student: student.name,
    };
  },
  headline: ['steps', 'final_loss', 'resumed_from_step', 'oom_halvings', 'per_device_batch_size', 'completion_only_loss'],
  describe: (r, i) => {
    const { name, ...k } = perStudent.student(r, i);
    return { summary: `sft ${name} — ${modelName(k.base)} on the translated instructions, ${trainLine(k)}`, facts: [['student', name], ...trainFacts(k)] };
  },
  placement: (r, i) => ({ train: classOf(r.resources, 'sft', perStudent.student(r, i).name) }),
  work: (io, s, up) => trainOn(io, up.corpus, s),
};
