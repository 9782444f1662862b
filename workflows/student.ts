// Stages 6–8 for one student: supervised fine-tuning on the translated corpus, slerp merge with
// its base, and the Arabic benchmarks. Each is its own stage workflow (own key, own manifest).
import type { ArtifactRef } from '../contracts/artifact';
import type { EvaluateBenchmarksOutput, MergeSlerpOutput, TrainSftOutput } from '../contracts/gpu-activities';
import type { Student } from '../contracts/recipe';
import { gpuActivities } from './activity-proxies';
import { runStage, summarizeRuns, type StageContext, type StageOutcome } from './stage';
import { trainOn } from './train-translator';

export interface SftInput {
  ctx: StageContext;
  student: Student;
  corpus: ArtifactRef;
}

export async function sft(input: SftInput): Promise<StageOutcome<TrainSftOutput>> {
  const { ctx, student, corpus } = input;
  return runStage(
    ctx,
    { stage: `sft-${student.name}`, config: { student, seed: ctx.recipe.seed }, inputs: [corpus.sha256, student.base] },
    (opened) => {
      const { name: _name, ...knobs } = student; // the runner takes training knobs only
      return trainOn(ctx, opened, corpus, knobs);
    },
  );
}

export interface MergeInput {
  ctx: StageContext;
  student: Student;
  tuned: ArtifactRef;
}

export async function merge(input: MergeInput): Promise<StageOutcome<MergeSlerpOutput>> {
  const { ctx, student, tuned } = input;
  const knobs = ctx.recipe.stages.merge;
  return runStage(
    ctx,
    { stage: `merge-${student.name}`, config: knobs, inputs: [tuned.sha256, student.base] },
    async ({ stage_key, output_prefix }) => {
      const out = await gpuActivities(ctx.recipe).merge_slerp({
        stage_key,
        output_prefix,
        base: student.base,
        tuned,
        t: knobs.t,
        colinear_threshold: knobs.colinear_threshold,
      });
      return {
        output: out,
        artifacts: [out.model],
        metrics: { tensors: out.tensors, linear_fallbacks: out.linear_fallbacks },
        activities: summarizeRuns([out]),
      };
    },
  );
}

export interface EvaluateInput {
  ctx: StageContext;
  student: Student;
  model: ArtifactRef;
}

export async function evaluate(input: EvaluateInput): Promise<StageOutcome<EvaluateBenchmarksOutput>> {
  const { ctx, student, model } = input;
  const { recipe } = ctx;
  return runStage(
    ctx,
    {
      stage: `evaluate-${student.name}`,
      config: { knobs: recipe.stages.evaluate, benchmarks: recipe.inputs.benchmarks },
      inputs: [model.sha256, ...recipe.inputs.benchmarks.map((b) => b.uri)],
    },
    async ({ stage_key, output_prefix }) => {
      const out = await gpuActivities(recipe).evaluate_benchmarks({
        stage_key,
        output_prefix,
        model: model.uri,
        benchmarks: recipe.inputs.benchmarks,
        batch_size: recipe.stages.evaluate.batch_size,
      });
      return { output: out, artifacts: [out.report], metrics: { ...out.scores, average: out.average }, activities: summarizeRuns([out]) };
    },
  );
}
