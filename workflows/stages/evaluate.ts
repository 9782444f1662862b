// Stage 8, per student: the recipe's benchmarks on the merged model, its SFT model and its base, so
// the summary shows what SFT taught and what the merge kept of it.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { BenchmarkSplit, EvaluateBenchmarksOutput } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { scoreMetrics } from '../../contracts/benchmark-scores';
import { summarizeRuns } from '../activity-summaries';
import { everyStudent, type StageDeclaration, type StageIo } from './declaration';
import { perStudent } from './students';
import { dataset, model } from './sources';
import { plural, scoringFact } from './describe-helpers';
import { mul, round, sumAll } from './estimate-context';

export interface EvaluateSlice {
  benchmarks: Recipe['inputs']['benchmarks'];
  batch_size: number;
  /** The student's base, benchmarked beside its SFT and merged models. */
  base: string;
  harness: Recipe['stages']['evaluate']['harness'];
  formulation: Recipe['stages']['evaluate']['formulation'];
  chat_template: boolean;
  /** The benchmarks' test part, the rows stages.choose never saw; absent: every row (no split, or harness lighteval). */
  split?: BenchmarkSplit;
  /** The recipe chooses (stages.choose.enabled): the chosen model is benchmarked too. */
  chosen: boolean;
}

/** The merged model's scores, with the base's, the SFT model's and (when the campaign chose) the chosen model's beside them. */
export type EvaluateStageOutput = EvaluateBenchmarksOutput & { base: EvaluateBenchmarksOutput; sft: EvaluateBenchmarksOutput; chosen?: EvaluateBenchmarksOutput };

/** The merged and SFT models, and when the recipe chooses, the model stages.choose kept and its evidence (ChooseOutput). */
export type EvaluateUpstream = { model: ArtifactRef; tuned: ArtifactRef; chosen?: ArtifactRef; evidence?: ArtifactRef };

export const evaluateStage: StageDeclaration<EvaluateSlice, EvaluateUpstream, EvaluateStageOutput> = {
  ...everyStudent('evaluate'),
  slice: (r, i) => {
    const { batch_size, harness, formulation, chat_template, validation } = r.stages.evaluate;
    // lighteval loads its tasks whole: its rows cannot be split, so it scores them all (recipe rules refuse choosing on it).
    const split: BenchmarkSplit | undefined = harness === 'own' && validation.fraction > 0 ? { part: 'test', fraction: validation.fraction } : undefined;
    return { benchmarks: r.inputs.benchmarks, batch_size, base: perStudent.student(r, i).base, harness, formulation, chat_template, ...(split && { split }), chosen: r.stages.choose.enabled };
  },
  // lighteval reads the leaderboard's hub datasets, not the recipe's files: those are then not checked.
  inputs: (s, up, i) => [
    up.model.sha256,
    up.tuned.sha256,
    // The chosen model's digest (another choice is another evaluation) and the decision's record
    // (so the lineage of what evaluate reports leads back to why that model was kept).
    ...(up.chosen ? [up.chosen.sha256] : []),
    ...(up.evidence ? [up.evidence.sha256] : []),
    model(s.base, `stages.sft.students[${i}].base`),
    ...(s.harness === 'lighteval' ? [] : s.benchmarks.map((b, k) => dataset(b.uri, `inputs.benchmarks[${k}].uri`))),
  ],
  model: (r, i) => perStudent.student(r, i).base,
  estimate: (x, r, i) => {
    const b = x.params(perStudent.student(r, i).base);
    // Its rows are the test part: the validation rows are stages.choose's.
    const split = evaluateStage.slice(r, i).split;
    const rows = round(mul(sumAll(r.inputs.benchmarks.map((bench) => x.rows(bench.name))), split ? 1 - split.fraction : 1));
    return {
      reads: `${r.inputs.benchmarks.length} benchmarks${split ? ' (test rows)' : ''}`,
      rows_in: rows,
      unit: 'benchmark rows',
      gpu_hours: x.compute(mul(2, b, 1e9, rows, x.e.tokens.benchmark_row), x.pool('evaluate')),
      route: 'evaluate',
    };
  },
  headline: ['chosen:average', 'average', 'sft:average', 'base:average', 'oom_halvings', 'batch_size'],
  describe: (r, i) => {
    // Under lighteval a benchmark is its format's leaderboard tasks on the hub, not the recipe's file.
    const lighteval = r.stages.evaluate.harness === 'lighteval';
    const split = evaluateStage.slice(r, i).split;
    const models = r.stages.choose.enabled ? 'base, SFT, merged and chosen models' : 'base, SFT and merged models';
    return {
      summary: `evaluate ${perStudent.student(r, i).name} — ${plural(r.inputs.benchmarks.length, 'benchmark')} on the ${models}${lighteval ? ", through lighteval's leaderboard tasks" : ''}`,
      facts: [
        ['student', perStudent.student(r, i).name],
        ...r.inputs.benchmarks.map((b): [string, string] => [b.name, lighteval ? `lighteval ${b.format} tasks (every subset)` : b.uri]),
        ['batch', r.stages.evaluate.batch_size],
        ['scored', scoringFact(r.stages.evaluate)],
        ['rows', split ? `the test part: the ${Math.round((1 - split.fraction) * 100)}% of each benchmark not held out for choosing` : 'every row'],
      ],
    };
  },
  placement: ({ resources }) => ({ eval: classOf(resources, 'evaluate') }),
  product: true,
  async work(io, s, up) {
    const score = (uri: string, prefix: string) => benchmark(io, s, uri, prefix);
    // The chosen model is scored on its own only when it is a merge of the sweep; SFT and merged are scored anyway.
    const pick = s.chosen ? up.chosen : undefined;
    const again = pick && pick.sha256 !== up.model.sha256 && pick.sha256 !== up.tuned.sha256 ? pick : undefined;
    const [merged, base, sft, own] = await Promise.all([
      score(up.model.uri, io.output_prefix),
      score(s.base, `${io.output_prefix}/base`),
      score(up.tuned.uri, `${io.output_prefix}/sft`),
      ...(again ? [score(again.uri, `${io.output_prefix}/chosen`)] : []),
    ]);
    const chosen = !pick ? undefined : own ?? (pick.sha256 === up.tuned.sha256 ? sft : merged);
    const runs = [merged, base, sft, ...(own ? [own] : [])];
    const halvings = Math.max(...runs.map((r) => r.oom_halvings));
    // The batch is shown (and kept in the manifest) only when out-of-memory retries changed it.
    const adapted: Record<string, number> = halvings > 0 ? { oom_halvings: halvings, batch_size: Math.min(...runs.map((r) => r.batch_size)) } : {};
    const metrics = {
      ...scoreMetrics('merged', merged.scores, merged.average),
      ...scoreMetrics('sft', sft.scores, sft.average),
      ...scoreMetrics('base', base.scores, base.average),
      ...(chosen && scoreMetrics('chosen', chosen.scores, chosen.average)),
      ...adapted,
    };
    return {
      output: { ...merged, base, sft, ...(chosen && { chosen }) },
      artifacts: runs.map((r) => r.report),
      metrics,
      activities: summarizeRuns(runs),
    };
  },
};

function benchmark(io: StageIo, s: EvaluateSlice, model: string, output_prefix: string): ReturnType<StageIo['gpu']['evaluate_benchmarks']> {
  const { benchmarks, batch_size, harness, formulation, chat_template, split } = s;
  return io.gpu.evaluate_benchmarks({ stage_key: io.stage_key, output_prefix, model, benchmarks, batch_size, harness, formulation, chat_template, ...(split && { split }) });
}
