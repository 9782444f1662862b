// Stage 7b, per student: which model the campaign keeps. The SFT model, the merge at the recipe's t
// and a few merges at other t (stages.choose.sweep) are scored on the validation rows held out of
// the benchmarks (stages.evaluate.validation), never the test rows evaluate reports; the best
// average wins (choice.ts). Its output names the chosen model, which evaluate reads (and keys on).
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { BenchmarkSplit } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { summarizeRuns } from '../activity-summaries';
import { everyStudent, type StageDeclaration, type StageIo } from './declaration';
import { perStudent } from './students';
import { dataset, model } from './sources';
import { plural } from './describe-helpers';
import { mul, sum, sumAll } from './estimate-context';
import { type Candidate, type Decision, type ScoredCandidate, decide, decisionMetrics, sweepLabel, sweepOf } from './choice';

export interface ChooseSlice {
  base: string;
  merge: Recipe['stages']['merge'];
  /** The extra t merged and scored (the recipe's sweep without its own t). */
  sweep: number[];
  benchmarks: Recipe['inputs']['benchmarks'];
  batch_size: number;
  harness: Recipe['stages']['evaluate']['harness'];
  formulation: Recipe['stages']['evaluate']['formulation'];
  chat_template: boolean;
  /** The benchmarks' validation part (recipe rules make sure it is not empty under harness own). */
  validation: BenchmarkSplit;
}

/**
 * The chosen model and the decision (every candidate's validation scores, the winner, why), with
 * `evidence`: the chosen candidate's validation report, an artifact of this stage whose lineage
 * record holds the decision. Evaluate reads it, so the product's lineage leads back to the choice.
 */
export type ChooseOutput = Decision & { model: ArtifactRef; evidence: ArtifactRef };

const sweepOfRecipe = (r: Recipe) => sweepOf(r.stages.choose.sweep, r.stages.merge.t);

export const chooseStage: StageDeclaration<ChooseSlice, { tuned: ArtifactRef; merged: ArtifactRef }, ChooseOutput> = {
  ...everyStudent('choose'),
  // Off (stages.choose.enabled: false), no student has a choose stage.
  count: (r) => (r.stages.choose.enabled ? perStudent.count(r) : 0),
  slice: (r, i) => {
    const { batch_size, harness, formulation, chat_template, validation } = r.stages.evaluate;
    return {
      base: perStudent.student(r, i).base,
      merge: r.stages.merge,
      sweep: sweepOfRecipe(r),
      benchmarks: r.inputs.benchmarks,
      batch_size,
      harness,
      formulation,
      chat_template,
      validation: { part: 'validation', fraction: validation.fraction },
    };
  },
  inputs: (s, up, i) => [
    up.tuned.sha256,
    up.merged.sha256,
    model(s.base, `stages.sft.students[${i}].base`),
    ...s.benchmarks.map((b, k) => dataset(b.uri, `inputs.benchmarks[${k}].uri`)),
  ],
  model: (r, i) => perStudent.student(r, i).base,
  estimate: (x, r, i) => {
    const b = x.params(perStudent.student(r, i).base);
    const pool = x.pool('evaluate');
    const sweep = sweepOfRecipe(r).length;
    const rows = mul(sumAll(r.inputs.benchmarks.map((bench) => x.rows(bench.name))), r.stages.evaluate.validation.fraction);
    return {
      reads: `the SFT and merged models, ${plural(sweep, 'more merge')}, the validation rows`,
      rows_in: rows === undefined ? undefined : Math.ceil(rows),
      unit: 'validation rows',
      artifact_gb: mul(b, 2, sweep),
      // The sweep's merges (a weights pass each, as the merge stage) and every candidate scored on the validation rows.
      gpu_hours: sum(mul(x.weightsPass(mul(b, 6), x.pool('merge')), sweep), x.compute(mul(2, b, 1e9, rows, x.e.tokens.benchmark_row, 2 + sweep), pool)),
      route: 'evaluate',
    };
  },
  headline: ['chosen', 'chosen_t', 'val:chosen', 'val:sft', 'val:merged'],
  describe: (r, i) => {
    const s = perStudent.student(r, i);
    const sweep = sweepOfRecipe(r);
    return {
      summary: `choose ${s.name} — SFT, merged at t=${r.stages.merge.t}${sweep.length > 0 ? ` or t=${sweep.join(', ')}` : ''}, on ${Math.round(r.stages.evaluate.validation.fraction * 100)}% of each benchmark held out`,
      facts: [
        ['student', s.name],
        ['candidates', ['sft', 'merged', ...sweep.map(sweepLabel)].join(', ')],
        ['validation', `${r.stages.evaluate.validation.fraction} of each benchmark's rows, by a hash of the row`],
        ['ties', 'go to the simpler candidate (SFT, then the recipe t, then the sweep in order)'],
      ],
    };
  },
  placement: ({ resources }) => ({ quantize: classOf(resources, 'merge'), eval: classOf(resources, 'evaluate') }),
  async work(io, s, up) {
    // One merge after another: each uses the stage's scratch directory on its worker.
    const merges: Awaited<ReturnType<StageIo['gpu']['merge_slerp']>>[] = [];
    for (const t of s.sweep) {
      merges.push(await io.gpu.merge_slerp({ stage_key: io.stage_key, output_prefix: `${io.output_prefix}/${sweepLabel(t)}`, base: s.base, tuned: up.tuned, t, colinear_threshold: s.merge.colinear_threshold }));
    }
    const candidates: Candidate[] = [
      { label: 'sft', model: up.tuned },
      { label: 'merged', t: s.merge.t, model: up.merged },
      ...s.sweep.map((t, k) => ({ label: sweepLabel(t), t, model: merges[k]!.model })),
    ];
    const { benchmarks, batch_size, harness, formulation, chat_template, validation } = s;
    const runs = await Promise.all(
      candidates.map((c) =>
        io.gpu.evaluate_benchmarks({ stage_key: io.stage_key, output_prefix: `${io.output_prefix}/validation/${c.label}`, model: c.model.uri, benchmarks, batch_size, harness, formulation, chat_template, split: validation }),
      ),
    );
    const scored: ScoredCandidate[] = candidates.map((c, k) => ({ ...c, scores: runs[k]!.scores, average: runs[k]!.average, report: runs[k]!.report }));
    const decision = decide(scored, validation.fraction);
    const chosen = scored.find((c) => c.label === decision.chosen)!;
    return {
      output: { ...decision, model: chosen.model, evidence: chosen.report },
      // Only what this stage made (lineage is filed by digest): the sweep's merges and the validation reports.
      artifacts: [...merges.map((m) => m.model), ...runs.map((r) => r.report)],
      metrics: decisionMetrics(decision, validation.fraction),
      activities: summarizeRuns([...merges, ...runs]),
    };
  },
};
