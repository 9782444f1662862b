// The end-of-campaign summary: a table of stages, artifacts and metrics, then the headline
// figures a user checks first (teacher FP8 vs BF16, translator before/after, student benchmarks).
import type { CampaignProgress, StageReport } from '../contracts/campaign';
import type { StageKind } from '../contracts/stages';
import { declarationOf } from '../workflows/stages/plan';
import { renderGates } from './gate-summary';
import { renderChecks } from './check-summary';
import { renderBudget } from './budget-summary';
import { BENCHMARKED_MODELS, scoresByModel } from '../contracts/benchmark-scores';
import { decisionLine } from '../workflows/stages/choice';

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));

export function duration(s: StageReport): string {
  if (!s.started_at || !s.ended_at) return '';
  const secs = (Date.parse(s.ended_at) - Date.parse(s.started_at)) / 1000;
  return secs >= 60 ? `${Math.floor(secs / 60)}m${String(Math.round(secs % 60)).padStart(2, '0')}s` : `${secs.toFixed(1)}s`;
}

function shortUri(uri: string): string {
  const i = uri.indexOf('/stages/');
  return i >= 0 ? uri.slice(i + 1) : uri;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

/** The figures a finished stage is judged by (its declaration's headline), in declared order. */
export function headlineMetrics(s: StageReport): Record<string, number> {
  const names = declarationOf(s.kind)?.headline ?? [];
  return Object.fromEntries(names.filter((n) => s.metrics[n] !== undefined).map((n) => [n, s.metrics[n]!]));
}

export function metricText(s: StageReport): string {
  return Object.entries(headlineMetrics(s)).map(([n, v]) => `${n}=${fmt(v, Number.isInteger(v) ? 0 : 2)}`).join(' ');
}

/** `notes`: a word on a stage's line, by stage name (`no worker on hala-gpu-train for 5 min`). */
export function renderSummary(progress: CampaignProgress, uiUrl: string, namespace = 'default', notes: Record<string, string> = {}): string {
  const out: string[] = [];
  const rows = [['stage', 'status', 'time', 'artifact', 'sha256', 'metrics']];
  for (const s of progress.stages) {
    const first = s.artifacts[0];
    const status = s.forced && s.status === 'completed' ? 'forced' : s.computed_by ? `${s.status} (computed by campaign ${s.computed_by})` : s.status;
    rows.push([s.stage, notes[s.stage] ? `${status}: ${notes[s.stage]}` : status, duration(s), first ? shortUri(first.uri) : '', first ? first.sha256.slice(0, 12) : '', metricText(s)]);
  }
  out.push(table(rows), '');
  const gates = renderGates(progress);
  if (gates) out.push(gates, '');
  const checks = renderChecks(progress);
  if (checks) out.push(checks, '');
  const budget = renderBudget(progress);
  if (budget) out.push(budget, '');
  const failed = progress.stages.filter((s) => s.status === 'failed');
  if (failed.length > 0) {
    out.push(`Failed (${failed.length}); stages after them did not run, every other branch finished:`);
    for (const s of failed) out.push(`  ${s.stage}: ${s.error_type ?? 'Error'}: ${s.error ?? 'no message'}`);
    out.push('Fix the cause and run the same recipe again: the cache serves every stage that finished.', '');
  }

  const byKind = (kind: StageKind) => progress.stages.filter((s) => s.kind === kind);
  const teacher = byKind('compress-teacher')[0]?.metrics;
  if (teacher) {
    out.push(`Teacher FP8 vs BF16 (dev set): chrF++ ${fmt(teacher.fp8_chrf)} vs ${fmt(teacher.bf16_chrf)} ` +
      `(drop ${fmt((teacher.bf16_chrf ?? NaN) - (teacher.fp8_chrf ?? NaN), 2)}), BLEU ${fmt(teacher.fp8_bleu)} vs ${fmt(teacher.bf16_bleu)}, ` +
      `throughput ${teacher.fp8_speedup === undefined ? 'not measured (nothing generated on this attempt)' : `x${fmt(teacher.fp8_speedup, 2)}`}`);
  }
  const translator = byKind('evaluate-translator')[0]?.metrics;
  if (translator) {
    out.push(`Translator (held-out pairs, sacrebleu intl): chrF++ ${fmt(translator.base_chrf)} -> ${fmt(translator.chrf)} ` +
      `(+${fmt(translator.chrf_gain)}), BLEU ${fmt(translator.base_bleu)} -> ${fmt(translator.bleu)}`);
  }
  const evals = byKind('evaluate');
  if (evals.length > 0) {
    // One line per student and model: base, after SFT, merged (older campaigns scored merged only).
    const lines = evals.flatMap((e) => {
      const byModel = scoresByModel(e.metrics);
      return BENCHMARKED_MODELS.filter((m) => byModel[m]).map((m) => ({ student: e.stage.slice('evaluate-'.length), model: m, scores: byModel[m]! }));
    });
    const names = Object.keys(lines[0]?.scores ?? {}).filter((k) => k !== 'average');
    out.push('', table([['student', 'model', ...names, 'avg'], ...lines.map((l) => [l.student, l.model, ...names.map((n) => fmt(l.scores[n])), fmt(l.scores.average)])]));
  }
  // Which model each student keeps (stages.choose), and why: its validation averages.
  const choices = byKind('choose').flatMap((c) => {
    const line = decisionLine(c.metrics);
    return line ? [`  ${c.stage.slice('choose-'.length)} ${line}`] : [];
  });
  if (choices.length > 0) out.push('', 'Chosen on the validation split (scores above are on the test rows only):', ...choices);
  out.push('', `Temporal UI: ${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(progress.campaign_id)}`);
  return out.join('\n');
}
