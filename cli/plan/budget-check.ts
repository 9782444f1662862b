// A plan against its recipe's budget: the one comparison `hala plan` prints and `hala run` refuses on.
import type { Budget, PlannedSpend } from '../../contracts/budget';
import type { CampaignPlan } from './estimate';

export interface BudgetLine {
  measure: 'cost_usd' | 'gpu_hours';
  /** Undefined when the plan cannot say (a figure its estimates leave blank): then it cannot be checked. */
  planned?: number;
  cap: number;
  over: boolean;
}

export interface BudgetCheck {
  lines: BudgetLine[];
  /** Some planned figure is above its cap: `hala run` refuses unless --over-budget. */
  over: boolean;
}

/** Each cap of the budget beside the plan's total; undefined when the recipe sets no budget (unbounded). */
export function checkPlanBudget(totals: CampaignPlan['totals'], budget: Budget): BudgetCheck | undefined {
  if (!budget) return undefined;
  const planned = { cost_usd: totals.cost, gpu_hours: totals.gpu_hours };
  const lines = (['cost_usd', 'gpu_hours'] as const).flatMap((measure): BudgetLine[] => {
    const cap = budget[measure];
    if (cap === undefined) return [];
    const figure = planned[measure];
    return [{ measure, ...(figure !== undefined && { planned: figure }), cap, over: figure !== undefined && figure > cap }];
  });
  return { lines, over: lines.some((l) => l.over) };
}

const LABEL = { cost_usd: 'cost', gpu_hours: 'GPU-hours' } as const;
const figure = (n: number) => n.toFixed(n < 100 ? 2 : 0);

/** `cost 1234 planned vs budget.cost_usd 1000 (over)`, one clause per cap. */
export function budgetText(check: BudgetCheck): string {
  return check.lines
    .map((l) =>
      l.planned === undefined
        ? `${LABEL[l.measure]} unknown (the plan leaves it blank) vs budget.${l.measure} ${figure(l.cap)}`
        : `${LABEL[l.measure]} ${figure(l.planned)} planned vs budget.${l.measure} ${figure(l.cap)}${l.over ? ' (over)' : ''}`,
    )
    .join('; ');
}

/** Why `hala run` started nothing, and the ways on. */
export function overBudgetRefusal(file: string, check: BudgetCheck): string {
  const over = check.lines.filter((l) => l.over).map((l) => `budget.${l.measure}`);
  return (
    `${file} plans more than its budget: ${budgetText(check)}; nothing was started. ` +
    `Raise ${over.join(' and ')} in the recipe, make the plan smaller (hala plan ${file} shows each stage's share), ` +
    'or pass --over-budget to start it anyway: the campaign still holds new stages once its spend reaches the cap.'
  );
}

/** Each stage's planned GPU-hours and cost, for the campaign to project the spend of its running stages. */
export function plannedSpendOf(plan: CampaignPlan): PlannedSpend {
  return Object.fromEntries(plan.stages.map((s) => [s.stage, { ...(s.gpu_hours !== undefined && { gpu_hours: s.gpu_hours }), ...(s.cost !== undefined && { cost_usd: s.cost }) }]));
}
