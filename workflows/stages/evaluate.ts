// Stage 8, per student: the Arabic benchmarks on the merged model.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { EvaluateBenchmarksOutput } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { summarizeRuns } from '../activity-summaries';
import type { StageDeclaration } from './declaration';
import { perStudent } from './students';
import { stageWorkflow } from '../run-stage';
import { dataset } from './sources';
import { describe } from './descriptions';

export interface EvaluateSlice {
  benchmarks: Recipe['inputs']['benchmarks'];
  batch_size: number;
  /**
   * Present only when it is not the default `own`: the keys of own-harness stages stay those they
   * had before the knob existed (no cache is lost), and slices recorded then (replayed histories)
   * read as own.
   */
  harness?: 'lighteval';
}

/** The slice's harness knob: kept only when it changes what the stage computes. */
const harnessOf = (r: Recipe): Pick<EvaluateSlice, 'harness'> => (r.stages.evaluate.harness === 'lighteval' ? { harness: 'lighteval' } : {});

export const evaluateStage: StageDeclaration<EvaluateSlice, { model: ArtifactRef }, EvaluateBenchmarksOutput> = {
  kind: 'evaluate',
  workflow: 'evaluate',
  count: perStudent.count,
  name: (r, i) => `evaluate-${perStudent.student(r, i).name}`,
  slice: (r) => ({ benchmarks: r.inputs.benchmarks, batch_size: r.stages.evaluate.batch_size, ...harnessOf(r) }),
  // lighteval reads the leaderboard's hub datasets, not the recipe's files: those are then not checked.
  inputs: (s, up) => [up.model.sha256, ...(s.harness === 'lighteval' ? [] : s.benchmarks.map((b, k) => dataset(b.uri, `inputs.benchmarks[${k}].uri`)))],
  model: (r, i) => perStudent.student(r, i).base,
  headline: ['average', 'oom_halvings', 'batch_size'],
  describe: describe.evaluate,
  placement: ({ resources }) => ({ eval: classOf(resources, 'evaluate') }),
  product: true,
  async work(io, s, up) {
    const out = await io.gpu.evaluate_benchmarks({
      stage_key: io.stage_key,
      output_prefix: io.output_prefix,
      model: up.model.uri,
      benchmarks: s.benchmarks,
      batch_size: s.batch_size,
      ...(s.harness ? { harness: s.harness } : {}),
    });
    // The batch is shown (and kept in the manifest) only when out-of-memory retries changed it.
    const adapted: Record<string, number> = out.oom_halvings > 0 ? { oom_halvings: out.oom_halvings, batch_size: out.batch_size } : {};
    return { output: out, artifacts: [out.report], metrics: { ...out.scores, average: out.average, ...adapted }, activities: summarizeRuns([out]) };
  },
};

/** The workflow type `evaluate`: the declaration run as a child workflow of the campaign. */
export const evaluate = stageWorkflow(evaluateStage);
