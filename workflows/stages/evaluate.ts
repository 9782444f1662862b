// Stage 8, per student: the Arabic benchmarks on the merged model, its SFT model and its base, so
// the summary shows what SFT taught and what the merge kept of it.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { EvaluateBenchmarksOutput } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { scoreMetrics } from '../../contracts/benchmark-scores';
import { summarizeRuns } from '../activity-summaries';
import { everyStudent, type StageDeclaration, type StageIo } from './declaration';
import { perStudent } from './students';
import { dataset, model } from './sources';
import { plural, scoringFact } from './describe-helpers';
import { mul, sumAll } from './estimate-context';

export interface EvaluateSlice {
  benchmarks: Recipe['inputs']['benchmarks'];
  batch_size: number;
  /** The student's base, benchmarked beside its SFT and merged models. */
  base: string;
  harness: Recipe['stages']['evaluate']['harness'];
  formulation: Recipe['stages']['evaluate']['formulation'];
  chat_template: boolean;
}

/** The merged model's scores, with the base's and the SFT model's beside them. */
export type EvaluateStageOutput = EvaluateBenchmarksOutput & { base: EvaluateBenchmarksOutput; sft: EvaluateBenchmarksOutput };

export const evaluateStage: StageDeclaration<EvaluateSlice, { model: ArtifactRef; tuned: ArtifactRef }, EvaluateStageOutput> = {
  ...everyStudent('evaluate'),
  slice: (r, i) => {
    const { batch_size, harness, formulation, chat_template } = r.stages.evaluate;
    return { benchmarks: r.inputs.benchmarks, batch_size, base: perStudent.student(r, i).base, harness, formulation, chat_template };
  },
  // lighteval reads the leaderboard's hub datasets, not the recipe's files: those are then not checked.
  inputs: (s, up, i) => [
    up.model.sha256,
    up.tuned.sha256,
    model(s.base, `stages.sft.students[${i}].base`),
    ...(s.harness === 'lighteval' ? [] : s.benchmarks.map((b, k) => dataset(b.uri, `inputs.benchmarks[${k}].uri`))),
  ],
  model: (r, i) => perStudent.student(r, i).base,
  estimate: (x, r, i) => {
    const b = x.params(perStudent.student(r, i).base);
    const rows = sumAll(r.inputs.benchmarks.map((bench) => x.rows(bench.name)));
    return {
      reads: `${r.inputs.benchmarks.length} benchmarks`,
      rows_in: rows,
      unit: 'benchmark rows',
      gpu_hours: x.compute(mul(2, b, 1e9, rows, x.e.tokens.benchmark_row), x.pool('evaluate')),
      route: 'evaluate',
    };
  },
  headline: ['average', 'sft:average', 'base:average', 'oom_halvings', 'batch_size'],
  describe: (r, i) => {
    // Under lighteval a benchmark is its format's leaderboard tasks on the hub, not the recipe's file.
    const lighteval = r.stages.evaluate.harness === 'lighteval';
    return {
      summary: `evaluate ${perStudent.student(r, i).name} — ${plural(r.inputs.benchmarks.length, 'benchmark')} on the base, SFT and merged models${lighteval ? ", through lighteval's leaderboard tasks" : ''}`,
      facts: [
        ['student', perStudent.student(r, i).name],
        ...r.inputs.benchmarks.map((b): [string, string] => [b.name, lighteval ? `lighteval ${b.format} tasks (every subset)` : b.uri]),
        ['batch', r.stages.evaluate.batch_size],
        ['scored', scoringFact(r.stages.evaluate)],
      ],
    };
  },
  placement: ({ resources }) => ({ eval: classOf(resources, 'evaluate') }),
  product: true,
  async work(io, s, up) {
    const score = (uri: string, prefix: string) => benchmark(io, s, uri, prefix);
    const [merged, base, sft] = await Promise.all([
      score(up.model.uri, io.output_prefix),
      score(s.base, `${io.output_prefix}/base`),
      score(up.tuned.uri, `${io.output_prefix}/sft`),
    ]);
    const runs = [merged, base, sft];
    const halvings = Math.max(...runs.map((r) => r.oom_halvings));
    // The batch is shown (and kept in the manifest) only when out-of-memory retries changed it.
    const adapted: Record<string, number> = halvings > 0 ? { oom_halvings: halvings, batch_size: Math.min(...runs.map((r) => r.batch_size)) } : {};
    const metrics = {
      ...scoreMetrics('merged', merged.scores, merged.average),
      ...scoreMetrics('sft', sft.scores, sft.average),
      ...scoreMetrics('base', base.scores, base.average),
      ...adapted,
    };
    return {
      output: { ...merged, base, sft },
      artifacts: runs.map((r) => r.report),
      metrics,
      activities: summarizeRuns(runs),
    };
  },
};

function benchmark(io: StageIo, s: EvaluateSlice, model: string, output_prefix: string): ReturnType<StageIo['gpu']['evaluate_benchmarks']> {
  const { benchmarks, batch_size, harness, formulation, chat_template } = s;
  return io.gpu.evaluate_benchmarks({ stage_key: io.stage_key, output_prefix, model, benchmarks, batch_size, harness, formulation, chat_template });
}
