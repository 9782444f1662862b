// What both corpus stages check their rows against (recipe `decontamination`): every benchmark and
// the translation dev set, in one list, so the two stages cannot check different things.
import type { Decontamination } from '../../contracts/cpu-activities';
import type { Recipe } from '../../contracts/recipe';
import type { StageInputRef } from './declaration';
import { dataset } from './sources';

/** The slice of decontamination: null when the recipe turns the check off (then it reads none of the sets). */
export function decontaminationSlice(r: Recipe): Decontamination | null {
  const knobs = r.decontamination;
  if (!knobs.check) return null;
  return {
    ngram: knobs.ngram,
    eval_sets: [
      ...r.inputs.benchmarks.map((b) => ({ name: b.name, uri: b.uri, format: b.format })),
      { name: 'translation_dev', uri: r.inputs.translation_dev, format: 'opus_pairs' as const },
    ],
    language: { source: r.language.source, target: r.language.target },
  };
}

/** The evaluation sets as stage inputs: digested into the key, checked to be parquet splits. */
export function evalSetInputs(d: Decontamination | null): StageInputRef[] {
  if (!d) return [];
  // The benchmarks in recipe order, then the dev set (decontaminationSlice's order).
  return d.eval_sets.map((e, k) => dataset(e.uri, e.format === 'opus_pairs' ? 'inputs.translation_dev' : `inputs.benchmarks[${k}].uri`));
}

/** Funnel metrics: rows taken out per evaluation set, and their total, under `prefix`. */
export function decontaminatedMetrics(counts: Record<string, number>, prefix = ''): Record<string, number> {
  const metrics: Record<string, number> = { [`${prefix}decontaminated`]: Object.values(counts).reduce((a, n) => a + n, 0) };
  for (const [set, n] of Object.entries(counts)) metrics[`${prefix}decontaminated_${set}`] = n;
  return metrics;
}
