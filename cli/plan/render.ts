// `hala plan` as a table: one row per stage, then the totals and the figures the report quotes.
import { type BudgetCheck, budgetText } from './budget-check';
import type { CampaignPlan } from './estimate';

const blank = '—';
const count = (n: number | undefined) => (n === undefined ? blank : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}K` : String(n));
const gb = (n: number | undefined) => (n === undefined ? blank : n >= 1000 ? `${(n / 1000).toFixed(2)} TB` : n >= 1 ? `${n.toFixed(1)} GB` : `${(n * 1000).toFixed(0)} MB`);
const gpuHours = (n: number | undefined) => (n === undefined ? blank : n === 0 ? '0 (CPU)' : n < 10 ? n.toFixed(2) : n.toFixed(0));
const wallTime = (h: number) => (h >= 48 ? `${(h / 24).toFixed(1)} days` : `${h.toFixed(h < 10 ? 1 : 0)} h`);
const money = (n: number | undefined) => (n === undefined ? blank : n.toFixed(n < 100 ? 2 : 0));

/** `budget`: the plan against the recipe's budget, a line under the totals; none when the recipe sets no budget. */
export function renderPlan(plan: CampaignPlan, budget?: BudgetCheck): string {
  const rows = [['stage', 'reads', 'rows in', 'rows out', 'shards', 'artifact', 'class', 'GPU-hours', 'cost']];
  for (const s of plan.stages) {
    rows.push([s.stage, s.reads, s.rows_in === undefined ? '' : count(s.rows_in), s.rows_out === undefined ? '' : `${count(s.rows_out)} ${s.unit}`, s.shards === undefined ? '' : String(s.shards), gb(s.artifact_gb), s.resource_class ? `${s.resource_class} (${s.gpu_type})` : blank, gpuHours(s.gpu_hours), money(s.cost)]);
  }
  rows.push(['total', '', '', '', '', gb(plan.totals.artifact_gb), '', gpuHours(plan.totals.gpu_hours), money(plan.totals.cost)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const out = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  if (budget) out.push(`budget: ${budgetText(budget)}${budget.over ? ' — hala run refuses it without --over-budget' : ''}`);
  out.push(
    '',
    `bilingual pairs: ${count(plan.bilingual_pairs)}; translated samples: ${count(plan.translated_samples)}`,
    `students: ${plan.students.length} (${plan.students.join(', ')}); benchmarks: ${plan.benchmarks.length} (${plan.benchmarks.join(', ')})`,
  );
  const width = Math.max(...plan.stages.map((s) => s.stage.length));
  out.push('', 'order (a stage starts once the stages after its arrow have finished):');
  for (const s of plan.stages) out.push(`  ${s.after.length === 0 ? s.stage : `${s.stage.padEnd(width)}  ← ${s.after.join(', ')}`}`);
  if (plan.critical_path) {
    out.push(`critical path: ${wallTime(plan.critical_path.hours)} of wall time with one worker a stage (${plan.critical_path.stages.join(' → ')}); the translation fan-outs shorten with more workers`);
  }
  if (plan.gaps.length > 0) out.push('', `Figures shown ${blank} need what the recipe does not give:`, ...plan.gaps.map((g) => `  ${g}`));
  out.push('', 'Estimates, not measurements: from the recipe\'s `estimates` (rows, keep rates, model sizes, throughputs) and class prices.');
  return out.join('\n');
}
