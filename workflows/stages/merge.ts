// Stage 7, per student: slerp of the fine-tuned weights with the student's base.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { MergeSlerpOutput } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { summarizeRuns } from '../activity-summaries';
import { everyStudent, type StageDeclaration } from './declaration';
import { perStudent } from './students';
import { model } from './sources';
import { modelName } from '../stage-story';
import { mul } from './estimate-context';

export interface MergeSlice {
  base: string;
  merge: Recipe['stages']['merge'];
}

export const mergeStage: StageDeclaration<MergeSlice, { tuned: ArtifactRef }, MergeSlerpOutput> = {
  ...everyStudent('merge'),
  slice: (r, i) => ({ base: perStudent.student(r, i).base, merge: r.stages.merge }),
  inputs: (s, up, i) => [up.tuned.sha256, model(s.base, `stages.sft.students[${i}].base`)],
  model: (r, i) => perStudent.student(r, i).base,
  estimate: (x, r, i) => {
    const b = x.params(perStudent.student(r, i).base);
    return { reads: 'the tuned student and its base', unit: 'weights', artifact_gb: mul(b, 2), gpu_hours: x.weightsPass(mul(b, 6), x.pool('merge')), route: 'merge' };
  },
  headline: ['tensors', 'linear_fallbacks'],
  describe: (r, i) => {
    const s = perStudent.student(r, i);
    return {
      summary: `merge ${s.name} — slerp t=${r.stages.merge.t} of the SFT weights with ${modelName(s.base)}`,
      facts: [
        ['student', s.name],
        ['base', s.base],
        ['colinear threshold', r.stages.merge.colinear_threshold],
      ],
    };
  },
  placement: ({ resources }) => ({ quantize: classOf(resources, 'merge') }),
  product: true,
  async work(io, s, up) {
    const out = await io.gpu.merge_slerp({
      stage_key: io.stage_key,
      output_prefix: io.output_prefix,
      base: s.base,
      tuned: up.tuned,
      t: s.merge.t,
      colinear_threshold: s.merge.colinear_threshold,
    });
    return { output: out, artifacts: [out.model], metrics: { tensors: out.tensors, linear_fallbacks: out.linear_fallbacks }, activities: summarizeRuns([out]) };
  },
};
