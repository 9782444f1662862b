// Sizing a recipe's campaign stage by stage from its `estimates` (contracts/estimates.ts): rows in
// and out, shards, artifact sizes, GPU-hours and cost. Every figure is derived here, in one place;
// a figure that needs an estimate the recipe lacks is left undefined and its gap is named.
import { classOf } from '../../contracts/placement';
import type { Recipe } from '../../contracts/recipe';
import type { ResourceClass, Route } from '../../contracts/resources';
import { stageGraph } from '../../workflows/stages/plan';
import type { Measured } from './measure';

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
 * what the recipe's estimates leave out; a figure the recipe states wins.
 */
export async function planCampaign(recipe: Recipe, measured: Measured = { rows: {}, params_b: {} }): Promise<CampaignPlan> {
  const e = { ...recipe.estimates, rows: { ...measured.rows, ...recipe.estimates.rows }, params_b: { ...measured.params_b, ...recipe.estimates.params_b } };
  const gaps = new Set<string>();
  const rows = (name: string): number | undefined => {
    if (e.rows[name] === undefined) gaps.add(`estimates.rows.${name}: rows of input ${name}`);
    return e.rows[name];
  };
  const params = (uri: string): number | undefined => {
    if (e.params_b[uri] === undefined) gaps.add(`estimates.params_b["${uri}"]: billions of parameters`);
    return e.params_b[uri];
  };
  const kept = (name: string) => e.kept[name] ?? 1;
  const pool = (route: Route, student?: string): ResourceClass | undefined => classOf(recipe.resources, route, student);
  const className = (route: Route, student?: string): string | undefined =>
    (student !== undefined ? recipe.resources.students[student] : undefined) ?? recipe.resources[route];
  const tflops = (c: ResourceClass | undefined): number | undefined => {
    if (!c) return undefined;
    if (e.gpu_tflops[c.gpu_type] === undefined) gaps.add(`estimates.gpu_tflops["${c.gpu_type}"]: peak dense bf16 TFLOPs of one GPU`);
    return e.gpu_tflops[c.gpu_type];
  };
  const mul = (...xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, x) => a * x!, 1));
  /** GPU-hours to generate `tokens` output tokens with the teacher or the translator. */
  const generate = (tokens: number | undefined, model: 'teacher' | 'translator') => mul(tokens, 1 / e.generate_tokens_per_gpu_s[model], 1 / 3600);
  /** GPU-hours of `flops` on a pool's GPUs at the recipe's utilisation. */
  const compute = (flops: number | undefined, c: ResourceClass | undefined) => {
    const peak = tflops(c);
    return flops === undefined || peak === undefined ? undefined : hours(flops / (e.train_mfu * peak * 1e12));
  };
  /** GPU-hours of a worker reading and writing `gb` of weights: the whole worker is held. */
  const weightsPass = (gb: number | undefined, c: ResourceClass | undefined) => mul(gb, 1 / e.weights_gb_per_s, 1 / 3600, c?.gpus ?? 1);
  const graph = new Map((await stageGraph(recipe)).map((g) => [g.stage, g.after]));
  const wallHours = new Map<string, number | undefined>();
  const stageRow = (row: Omit<PlannedStage, 'after' | 'resource_class' | 'gpu_type' | 'cost'>, route?: Route, student?: string): PlannedStage => {
    const c = route ? pool(route, student) : undefined;
    if (route && !c) gaps.add(`resources.${route}: route it to a class of resources.classes (gpu_type, price_per_gpu_hour) for its GPU-hours and cost`);
    wallHours.set(row.stage, row.gpu_hours === 0 ? 0 : mul(row.gpu_hours, c && 1 / c.gpus));
    return { ...row, after: graph.get(row.stage)!, resource_class: route ? className(route, student) : undefined, gpu_type: c?.gpu_type, cost: row.gpu_hours === 0 ? 0 : c && row.gpu_hours !== undefined ? row.gpu_hours * c.price_per_gpu_hour : undefined };
  };
  const segmentGb = (n: number | undefined, sides: number) => mul(n, sides, e.tokens.segment, 4 / GB); // ~4 bytes of UTF-8 per token

  const s = recipe.stages;
  const stages: PlannedStage[] = [];
  const teacherB = params(recipe.inputs.teacher);
  stages.push(stageRow({
    stage: 'compress-teacher', kind: 'compress-teacher', reads: `the ${paramsText(teacherB)} teacher in BF16`, unit: 'weights', rows_in: undefined, rows_out: undefined,
    artifact_gb: teacherB, // FP8: one byte a parameter
    gpu_hours: sum(weightsPass(mul(teacherB, 3), pool('compress')), generate(s.compress_teacher.check_rows * 2 * e.tokens.segment, 'teacher')),
  }, 'compress'));

  const opusIn = minOf(rows('opus'), s.filter_opus.max_rows);
  const opusOut = mul(opusIn, kept('filter_opus'));
  stages.push(stageRow({ stage: 'filter-opus', kind: 'filter-opus', reads: 'OPUS-100 pairs', rows_in: opusIn, rows_out: round(opusOut), unit: 'pairs', artifact_gb: segmentGb(opusOut, 2), gpu_hours: 0 }));

  const c = s.build_bilingual_corpus;
  const orca = minOf(rows('open_orca'), c.open_orca_rows);
  const teacherSegments = mul(orca, c.translate_responses ? 2 : 1);
  const pairs = sum(opusOut, teacherSegments);
  stages.push(stageRow({
    stage: 'build-bilingual-corpus', kind: 'build-bilingual-corpus', reads: 'Open-Orca by the FP8 teacher, filtered OPUS',
    rows_in: orca, rows_out: round(pairs), unit: 'pairs', shards: ceilDiv(teacherSegments, c.shard_rows),
    artifact_gb: segmentGb(mul(pairs, c.both_directions ? 2 : 1), 2), gpu_hours: generate(mul(teacherSegments, e.tokens.segment), 'teacher'),
  }, 'teacher'));

  const translatorB = params(s.train_translator.base);
  const examples = mul(pairs, c.both_directions ? 2 : 1);
  stages.push(stageRow({
    stage: 'train-translator', kind: 'train-translator', reads: 'the bilingual corpus', rows_in: round(examples), unit: 'examples',
    artifact_gb: mul(translatorB, 2),
    gpu_hours: compute(mul(6, translatorB, 1e9, examples, 2 * e.tokens.segment, s.train_translator.epochs), pool('train_translator')),
  }, 'train_translator'));

  const devRows = minOf(rows('translation_dev'), s.evaluate_translator.rows);
  stages.push(stageRow({
    stage: 'evaluate-translator', kind: 'evaluate-translator', reads: 'held-out pairs, translator vs base', rows_in: devRows, unit: 'pairs',
    gpu_hours: generate(mul(devRows, 2, e.tokens.segment), 'translator'),
  }, 'translator'));

  const sets = recipe.inputs.instruction_sets.map((set) => {
    const conversations = mul(minOf(rows(set.name), set.max_rows), kept(set.name));
    return { conversations, segments: mul(conversations, e.segments_per_conversation) };
  });
  const samples = sumAll(sets.map((x) => x.conversations));
  const segments = sumAll(sets.map((x) => x.segments));
  stages.push(stageRow({
    stage: 'translate-instructions', kind: 'translate-instructions', reads: `${recipe.inputs.instruction_sets.length} instruction sets by the translator`,
    rows_in: round(samples), rows_out: round(samples), unit: 'conversations',
    shards: sumAll(sets.map((x) => ceilDiv(x.segments, s.translate_instructions.shard_rows))),
    artifact_gb: segmentGb(segments, 1), gpu_hours: generate(mul(segments, e.tokens.segment), 'translator'),
  }, 'translator'));

  const benchmarkRows = sumAll(recipe.inputs.benchmarks.map((b) => rows(b.name)));
  for (const student of s.sft.students) {
    const b = params(student.base);
    const tokens = mul(samples, Math.min(e.tokens.conversation, student.max_seq_len), student.epochs);
    stages.push(stageRow({ stage: `sft-${student.name}`, kind: 'sft', reads: 'the translated conversations', rows_in: round(samples), unit: 'conversations', artifact_gb: mul(b, 2), gpu_hours: compute(mul(6, b, 1e9, tokens), pool('sft', student.name)) }, 'sft', student.name));
    stages.push(stageRow({ stage: `merge-${student.name}`, kind: 'merge', reads: 'the tuned student and its base', unit: 'weights', artifact_gb: mul(b, 2), gpu_hours: weightsPass(mul(b, 6), pool('merge')) }, 'merge'));
    stages.push(stageRow({ stage: `evaluate-${student.name}`, kind: 'evaluate', reads: `${recipe.inputs.benchmarks.length} benchmarks`, rows_in: benchmarkRows, unit: 'benchmark rows', gpu_hours: compute(mul(2, b, 1e9, benchmarkRows, e.tokens.benchmark_row), pool('evaluate')) }, 'evaluate'));
  }
  return {
    recipe: recipe.name,
    stages,
    totals: { gpu_hours: sumAll(stages.map((x) => x.gpu_hours)), cost: sumAll(stages.map((x) => x.cost)), artifact_gb: sumAll(stages.map((x) => x.artifact_gb ?? 0)) },
    critical_path: criticalPath(stages, wallHours),
    gaps: [...gaps],
    bilingual_pairs: round(pairs),
    translated_samples: round(samples),
    students: s.sft.students.map((x) => x.name),
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

function sum(...xs: (number | undefined)[]): number | undefined {
  return sumAll(xs);
}
function sumAll(xs: (number | undefined)[]): number | undefined {
  return xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, x) => a + x!, 0);
}
const minOf = (n: number | undefined, cap: number | undefined) => (n === undefined ? undefined : cap === undefined ? n : Math.min(n, cap));
const ceilDiv = (n: number | undefined, d: number) => (n === undefined ? undefined : Math.ceil(n / d));
/** 111B, 350M, 656K parameters. */
const paramsText = (b: number | undefined) => (b === undefined ? '?-parameter' : b >= 1 ? `${+b.toFixed(1)}B` : b >= 1e-3 ? `${+(b * 1e3).toFixed(0)}M` : `${+(b * 1e6).toFixed(0)}K`);
const round = (n: number | undefined) => (n === undefined ? undefined : Math.round(n));
