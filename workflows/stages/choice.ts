// The students' choice, as pure functions: which candidates a student has, which one wins on the
// validation split and why, and how the decision reads back from the choose stage's metrics (the
// campaign summary has only those). The choose stage (choose.ts) runs the merges and the scoring.
import type { ArtifactRef } from '../../contracts/artifact';

/** One model the choice weighs: the SFT model, the merge at the recipe's t, or a merge of the sweep. */
export interface Candidate {
  /** sft, merged (at stages.merge.t) or t<value> (a merge of stages.choose.sweep). */
  label: string;
  /** The slerp t it was merged at (the recipe's t for `merged`, a list when per layer); absent for SFT. */
  t?: number | number[];
  model: ArtifactRef;
}

export interface ScoredCandidate extends Candidate {
  /** acc_norm per benchmark on the validation rows, in percent, and their average. */
  scores: Record<string, number>;
  average: number;
  report: ArtifactRef;
}

/** What the choose stage decided: every candidate with its validation scores, the winner and why. */
export interface Decision {
  candidates: ScoredCandidate[];
  chosen: string;
  reason: string;
}

/** The label of a merge of the sweep at `t`. */
export const sweepLabel = (t: number) => `t${t}`;

/** The sweep's t values, once each, without the recipe's own t (that merge is the merge stage's). */
export function sweepOf(sweep: readonly number[], t: number | number[]): number[] {
  return [...new Set(sweep)].filter((x) => x !== t);
}

/**
 * The best validation average wins. Candidates come simplest first (SFT needs no merge, then the
 * recipe's t, then the sweep in recipe order) and a later one must score strictly higher, so a tie
 * goes to the simpler candidate.
 */
export function decide(scored: readonly ScoredCandidate[], fraction: number): Decision {
  let best = scored[0]!;
  for (const c of scored.slice(1)) if (c.average > best.average) best = c;
  const others = scored.filter((c) => c !== best);
  const tied = others.filter((c) => c.average === best.average).map((c) => c.label);
  const reason =
    `${best.label} has the best validation average, ${best.average.toFixed(2)} on ${Math.round(fraction * 100)}% of each benchmark's rows` +
    (others.length > 0 ? ` (${others.map((c) => `${c.label} ${c.average.toFixed(2)}`).join(', ')})` : '') +
    (tied.length > 0 ? `; tied with ${tied.join(', ')}, it is the simpler` : '');
  return { candidates: [...scored], chosen: best.label, reason };
}

/** The decision as stage metrics: `chosen` (its candidate's position: 0 = SFT, 1 = merged, 2.. = the sweep), `chosen_t`, `val:<label>`. */
export function decisionMetrics(d: Decision, fraction: number): Record<string, number> {
  const index = d.candidates.findIndex((c) => c.label === d.chosen);
  const t = d.candidates[index]!.t;
  return {
    chosen: index,
    // The SFT model is slerp's t = 1 (all fine-tuned); a per-layer t has no single figure.
    ...(t === undefined ? { chosen_t: 1 } : typeof t === 'number' ? { chosen_t: t } : {}),
    'val:chosen': d.candidates[index]!.average,
    ...Object.fromEntries(d.candidates.map((c) => [`val:${c.label}`, c.average])),
    validation_fraction: fraction,
  };
}

/** The decision read back from a choose stage's metrics: one line for the summary. */
export function decisionLine(metrics: Record<string, number>): string | undefined {
  const scored = Object.entries(metrics).filter(([k]) => k.startsWith('val:') && k !== 'val:chosen').map(([k, v]) => [k.slice(4), v] as const);
  const chosen = scored[metrics.chosen ?? -1];
  if (!chosen) return undefined;
  const others = scored.filter((c) => c !== chosen).map(([l, v]) => `${l} ${v.toFixed(2)}`);
  const share = metrics.validation_fraction === undefined ? '' : ` on ${Math.round(metrics.validation_fraction * 100)}% of each benchmark's rows`;
  return `keeps ${chosen[0]}: validation average ${chosen[1].toFixed(2)}${share}${others.length > 0 ? ` vs ${others.join(', ')}` : ''}`;
}
