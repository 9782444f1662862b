// Sizing a recipe's campaign stage by stage from its `estimates` (contracts/estimates.ts): rows in
// and out, shards, artifact sizes, GPU-hours and cost. Every figure is derived here, in one place;
// a figure that needs an estimate the recipe lacks is left undefined and its gap is named.
import { classOf } from '../../contracts/placement';
import type { Recipe } from '../../contracts/recipe';
import type { ResourceClass, Route } from '../../contracts/resources';
import { type EstimateContext, mul, type StageEstimate, sumAll } from '../../workflows/stages/estimate-context';
import { dryRun } from '../../workflows/stages/plan';
import type { Measured } from './measure';
import { perStudent } from '../../workflows/stages/students';

export interface PlannedStage {
  stage: string;
  kind: string;
  /** What it reads, in words: `1,000,000 OPUS pairs`. */
  reads: string;
  /** The stages whose artifacts it reads: it starts when they have finished (the DAG). */
  after: string[];
  rows_in?: number;
  rows_out?: number;
  /** What the rows out are: pairs, segments, conversations, benchmark rows. */
  unit: string;
  shards?: number;
  artifact_gb?: number;
  /** The pool it runs on (resources.classes), when the recipe routes it. */
  resource_class?: string;
  gpu_type?: string;
  gpu_hours?: number;
  cost?: number;
}

export interface CampaignPlan {
  recipe: string;
  stages: PlannedStage[];
  totals: { gpu_hours?: number; cost?: number; artifact_gb?: number };
  /**
   * The longest chain of the DAG in hours of wall time, each stage on one worker of its pool (its
   * GPU-hours over the worker's GPUs). Only the translation fan-outs spread over more workers, so
   * beyond them no campaign of the recipe ends sooner.
   */
  critical_path?: { hours: number; stages: string[] };
  /** Estimates the recipe should add for the figures left blank, one line each. */
  gaps: string[];
  /** The headline figures the report quotes. */
  bilingual_pairs?: number;
  translated_samples?: number;
  students: string[];
  benchmarks: string[];
}

const GB = 1e9;
const hours = (seconds: number) => seconds / 3600;

/**
 * The plan of `recipe`'s campaign. `measured` (measure.ts: sizes read off local sources) fills in
 * what the recipe's estimates leave out; a figure the recipe states wins. Each stage gives its own
 * row (its declaration's `estimate`), visited in the order the recipe's stage calls reach it.
 */
export async function planCampaign(recipe: Recipe, measured: Measured = { rows: {}, params_b: {} }): Promise<CampaignPlan> {
  const e = { ...recipe.estimates, rows: { ...measured.rows, ...recipe.estimates.rows }, params_b: { ...measured.params_b, ...recipe.estimates.params_b } };
  // The gaps each stage's figures met, listed in table order at the end.
  const gapsOf = new Map<string, Set<string>>();
  let visiting = '';
  const gaps = { add: (gap: string) => gapsOf.set(visiting, (gapsOf.get(visiting) ?? new Set()).add(gap)) };
  const tflops = (c: ResourceClass | undefined): number | undefined => {
    if (!c) return undefined;
    if (e.gpu_tflops[c.gpu_type] === undefined) gaps.add(`estimates.gpu_tflops["${c.gpu_type}"]: peak dense bf16 TFLOPs of one GPU`);
    return e.gpu_tflops[c.gpu_type];
  };
  const context: EstimateContext = {
    e,
    rows: (name) => {
      if (e.rows[name] === undefined) gaps.add(`estimates.rows.${name}: rows of input ${name}`);
      return e.rows[name];
    },
    params: (uri) => {
      if (e.params_b[uri] === undefined) gaps.add(`estimates.params_b["${uri}"]: billions of parameters`);
      return e.params_b[uri];
    },
    kept: (name) => e.kept[name] ?? 1,
    pool: (route, student) => classOf(recipe.resources, route, student),
    generate: (tokens, model) => mul(tokens, 1 / e.generate_tokens_per_gpu_s[model], 1 / 3600),
    compute: (flops, c) => {
      const peak = tflops(c);
      return flops === undefined || peak === undefined ? undefined : hours(flops / (e.train_mfu * peak * 1e12));
    },
    weightsPass: (gb, c) => mul(gb, 1 / e.weights_gb_per_s, 1 / 3600, c?.gpus ?? 1),
    segmentGb: (n, sides) => mul(n, sides, e.tokens.segment, 4 / GB), // ~4 bytes of UTF-8 per token
  };
  const className = (route: Route, student?: string): string | undefined =>
    (student !== undefined ? recipe.resources.students[student] : undefined) ?? recipe.resources[route];

  const stages: PlannedStage[] = [];
  // A student's stages sit together in the table, in the order its first one was reached.
  const lane = new Map<PlannedStage, string>();
  const wallHours = new Map<string, number | undefined>();
  const figures = new Map<string, Record<string, number | undefined>>();
  let headline: StageEstimate['headline'] = {};
  await dryRun(recipe, (declaration, i, stage, producers, after) => {
    visiting = stage;
    const up = Object.fromEntries(Object.entries(producers).map(([key, producer]) => [key, figures.get(producer)!]));
    const { route, student, figures: own, headline: quoted, ...row } = declaration.estimate(context, recipe, i, up);
    figures.set(stage, own ?? {});
    headline = { ...headline, ...quoted };
    const c = route ? classOf(recipe.resources, route, student) : undefined;
    if (route && !c) gaps.add(`resources.${route}: route it to a class of resources.classes (gpu_type, price_per_gpu_hour) for its GPU-hours and cost`);
    wallHours.set(stage, row.gpu_hours === 0 ? 0 : mul(row.gpu_hours, c && 1 / c.gpus));
    lane.set(stages[stages.push({
      stage, kind: declaration.kind, ...row, after,
      resource_class: route ? className(route, student) : undefined, gpu_type: c?.gpu_type,
      cost: row.gpu_hours === 0 ? 0 : c && row.gpu_hours !== undefined ? row.gpu_hours * c.price_per_gpu_hour : undefined,
    }) - 1]!, declaration.count(recipe) > 1 ? `student ${i}` : stage);
  });
  const lanes = [...new Set(stages.map((s) => lane.get(s)!))];
  stages.sort((a, b) => lanes.indexOf(lane.get(a)!) - lanes.indexOf(lane.get(b)!)); // stable: parents stay first
  return {
    recipe: recipe.name,
    stages,
    totals: { gpu_hours: sumAll(stages.map((x) => x.gpu_hours)), cost: sumAll(stages.map((x) => x.cost)), artifact_gb: sumAll(stages.map((x) => x.artifact_gb ?? 0)) },
    critical_path: criticalPath(stages, wallHours),
    gaps: [...new Set(stages.flatMap((x) => [...(gapsOf.get(x.stage) ?? [])]))],
    bilingual_pairs: headline.bilingual_pairs,
    translated_samples: headline.translated_samples,
    students: perStudent.names(recipe),
    benchmarks: recipe.inputs.benchmarks.map((x) => x.name),
  };
}

/** The chain of stages, each after the one before, with the most wall hours; undefined while a stage's hours are. */
function criticalPath(stages: PlannedStage[], wallHours: Map<string, number | undefined>): CampaignPlan['critical_path'] {
  if ([...wallHours.values()].some((h) => h === undefined)) return undefined;
  const longest = new Map<string, { hours: number; stages: string[] }>();
  for (const s of stages) { // in campaign order, so a stage's parents come before it
    const before = s.after.map((p) => longest.get(p)!).reduce((a, b) => (b.hours > a.hours ? b : a), { hours: 0, stages: [] });
    longest.set(s.stage, { hours: before.hours + wallHours.get(s.stage)!, stages: [...before.stages, s.stage] });
  }
  return [...longest.values()].reduce((a, b) => (b.hours > a.hours ? b : a));
}
