// How an evaluate stage's metrics hold the scores of the models it benchmarks: the merged
// model's under the benchmark's own name (the only ones older campaigns recorded), the base's, the
// SFT model's and the chosen model's (stages.choose: one of SFT, merged or a merge of the sweep)
// under `base:<name>`, `sft:<name>` and `chosen:<name>`. One place reads and writes these keys.

export const BENCHMARKED_MODELS = ['base', 'sft', 'merged', 'chosen'] as const;
export type BenchmarkedModel = (typeof BENCHMARKED_MODELS)[number];

/** Evaluate metrics that are not scores: how the run went, not how the model did. */
const RUN_FIGURES = new Set(['oom_halvings', 'batch_size']);

export function scoreKey(model: BenchmarkedModel, name: string): string {
  return model === 'merged' ? name : `${model}:${name}`;
}

/** Flat metrics for one model's scores (per benchmark and `average`). */
export function scoreMetrics(model: BenchmarkedModel, scores: Record<string, number>, average: number): Record<string, number> {
  return Object.fromEntries([...Object.entries(scores), ['average', average]].map(([k, v]) => [scoreKey(model, k as string), v as number]));
}

/** The scores per benchmarked model in an evaluate stage's metrics; a model it did not benchmark is absent. */
export function scoresByModel(metrics: Record<string, number>): Partial<Record<BenchmarkedModel, Record<string, number>>> {
  const out: Partial<Record<BenchmarkedModel, Record<string, number>>> = {};
  for (const [key, value] of Object.entries(metrics)) {
    if (RUN_FIGURES.has(key)) continue;
    const [prefix, rest] = key.includes(':') ? (key.split(':', 2) as [string, string]) : ['merged', key];
    const model = BENCHMARKED_MODELS.find((m) => m === prefix);
    if (model) (out[model] ??= {})[rest] = value;
  }
  return out;
}
