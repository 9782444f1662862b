// What a stage's `estimate` (its row of `hala plan`) is given and gives back. cli/plan/estimate.ts
// builds the context from the recipe's `estimates` and resources and walks the recipe's own stage
// calls; each declaration knows only its own figures and reads its upstream stages' through `up`.
import type { Route } from '../../contracts/resources';
import type { ResourceClass } from '../../contracts/resources';
import type { Estimates } from '../../contracts/estimates';

/** One stage's row of the plan, before the engine adds its place in the DAG, its pool and its cost. */
export interface StageEstimate {
  /** What it reads, in words: `1,000,000 OPUS pairs`. */
  reads: string;
  rows_in?: number;
  rows_out?: number;
  /** What the rows are: pairs, segments, conversations, benchmark rows. */
  unit: string;
  shards?: number;
  artifact_gb?: number;
  gpu_hours?: number;
  /** The route whose pool runs it (its class prices it and sets its wall time); none for CPU work. */
  route?: Route;
  /** The student whose own route (resources.students) may place it elsewhere. */
  student?: string;
  /** Figures stages downstream read of this one (`pairs`, `conversations`). */
  figures?: Record<string, number | undefined>;
  /** Figures the report quotes, which `hala plan` prints below the table. */
  headline?: { bilingual_pairs?: number; translated_samples?: number };
}

/** The recipe's estimates as functions that record a gap when a figure they need is missing. */
export interface EstimateContext {
  e: Estimates;
  /** Rows of an input (or instruction set) by name. */
  rows(name: string): number | undefined;
  /** Billions of parameters of a model. */
  params(uri: string): number | undefined;
  /** Share of rows a filter keeps (1 when the recipe gives none). */
  kept(name: string): number;
  /** The resource class work of `route` (for `student`) runs on. */
  pool(route: Route, student?: string): ResourceClass | undefined;
  /** GPU-hours to generate `tokens` output tokens with the teacher or the translator. */
  generate(tokens: number | undefined, model: 'teacher' | 'translator'): number | undefined;
  /** GPU-hours of `flops` on a pool's GPUs at the recipe's utilisation. */
  compute(flops: number | undefined, pool: ResourceClass | undefined): number | undefined;
  /** GPU-hours of a worker reading and writing `gb` of weights: the whole worker is held. */
  weightsPass(gb: number | undefined, pool: ResourceClass | undefined): number | undefined;
  /** Gigabytes of `n` rows of `sides` translated segments. */
  segmentGb(n: number | undefined, sides: number): number | undefined;
}

/** The figures of each upstream artifact's producing stage, keyed as the stage's upstream is. */
export type UpstreamFigures<Upstream> = { [K in keyof Upstream]: Record<string, number | undefined> };

// Arithmetic where any unknown figure makes the result unknown.
export function sumAll(xs: (number | undefined)[]): number | undefined {
  return xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, x) => a + x!, 0);
}
export const sum = (...xs: (number | undefined)[]) => sumAll(xs);
export const mul = (...xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, x) => a * x!, 1));
export const minOf = (n: number | undefined, cap: number | undefined) => (n === undefined ? undefined : cap === undefined ? n : Math.min(n, cap));
export const ceilDiv = (n: number | undefined, d: number) => (n === undefined ? undefined : Math.ceil(n / d));
export const round = (n: number | undefined) => (n === undefined ? undefined : Math.round(n));
/** 111B, 350M, 656K parameters. */
export const paramsText = (b: number | undefined) =>
  b === undefined ? '?-parameter' : b >= 1 ? `${+b.toFixed(1)}B` : b >= 1e-3 ? `${+(b * 1e3).toFixed(0)}M` : `${+(b * 1e6).toFixed(0)}K`;
