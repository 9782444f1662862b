// The budget as `hala status`, `hala approve` and `hala lineage` show it: spend, projection and caps,
// and for a campaign held at a cap, the command that raises it.
import { BUDGET_GATE, type BudgetCaps, type BudgetReport } from '../contracts/budget';
import type { CampaignProgress } from '../contracts/campaign';
import type { Approval } from '../contracts/gates';

const money = (n: number) => n.toFixed(2);
const hours = (n: number) => (n < 10 ? n.toFixed(4).replace(/\.?0+$/, '') || '0' : n.toFixed(1));

/** `cost 12.00, 3 GPU-hours`: the caps that are set. */
export function capsText(caps: BudgetCaps): string {
  return [caps.cost_usd !== undefined ? `cost ${money(caps.cost_usd)}` : '', caps.gpu_hours !== undefined ? `${hours(caps.gpu_hours)} GPU-hours` : ''].filter(Boolean).join(', ');
}

/** One figure's line: `cost 0.40 spent, 0.55 projected, cap 0.50`. */
function figureLine(label: string, spent: number, projected: number, cap: number | undefined, format: (n: number) => string): string {
  return `${label} ${format(spent)} spent, ${format(projected)} projected, cap ${cap === undefined ? 'none' : format(cap)}`;
}

/** `cost 0.40 spent, 0.55 projected, cap 100.00; GPU-hours …`: what `hala status` and `hala watch` show of a budget. */
export function budgetFigures(b: BudgetReport): string {
  return `${figureLine('cost', b.spent.cost_usd, b.projected.cost_usd, b.caps.cost_usd, money)}; ${figureLine('GPU-hours', b.spent.gpu_hours, b.projected.gpu_hours, b.caps.gpu_hours, hours)}`;
}

/** The command that raises a campaign's budget. */
export const raiseCommand = (campaignId: string) => `hala approve ${campaignId} ${BUDGET_GATE} --cost-usd <N> --gpu-hours <N>`;

/** The budget section of `hala status`; empty when the recipe sets no budget. */
export function renderBudget(progress: CampaignProgress): string {
  const b: BudgetReport | undefined = progress.budget;
  if (!b) return '';
  const out = [`budget: ${budgetFigures(b)}`];
  if (b.unpriced_gpu_hours > 0) out.push(`  ${hours(b.unpriced_gpu_hours)} GPU-hours ran on pools without a price: not in the cost`);
  if (b.state === 'warning') out.push(`  warning: the projected spend is past ${Math.round(b.warn_at * 100)}% of a cap; at the cap new stages are held`);
  if (b.state === 'held') {
    out.push(
      `  held at budget: ${b.held_stages.length > 0 ? b.held_stages.join(', ') : 'new stages'} wait; running stages go on.`,
      `  raise it: ${raiseCommand(progress.campaign_id)} (either or both)`,
    );
  }
  for (const r of b.raises) out.push(`  ${raiseLine(r)}`);
  return out.join('\n');
}

/** `raised by alice at …: cost 2.00, 1 GPU-hours (note)`. */
export function raiseLine(r: Approval): string {
  return `raised by ${r.by} at ${r.at} to ${capsText(r.budget ?? {})}${r.note ? ` (${r.note})` : ''}`;
}
