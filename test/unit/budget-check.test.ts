// A plan against its recipe's budget: the figures `hala plan` prints, the refusal of `hala run` with
// them and the fix, and --over-budget starting it anyway (here: on to connecting, to a server that is not there).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPlanBudget, overBudgetRefusal } from '../../cli/plan/budget-check';
import { planCampaign } from '../../cli/plan/estimate';
import { renderPlan } from '../../cli/plan/render';
import { parseRecipeText } from '../../cli/recipe-file';
import { Recipe } from '../../contracts/recipe';
import { runHala } from '../support/hala-cli';

const root = path.join(__dirname, '../..');
const paper = readFileSync(path.join(root, 'recipes/hala-paper.yaml'), 'utf8');
const withBudget = (budget: string) => `${paper}\nbudget: ${budget}\n`;
const recipeOf = (text: string) => {
  const r = parseRecipeText(text, 'paper.yaml');
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.recipe;
};

/** Nothing listens on this address, so a start gets as far as connecting. */
const hala = (...args: string[]) => runHala('127.0.0.1:1', ...args);

describe('plan against budget', () => {
  it('is over when a planned total passes its cap, with both figures, and names the cap to raise', async () => {
    const plan = await planCampaign(recipeOf(paper));
    const { cost, gpu_hours } = plan.totals;
    expect(cost).toBeGreaterThan(1000);
    const check = checkPlanBudget(plan.totals, { cost_usd: 1000, gpu_hours: gpu_hours! + 1, warn_at: 0.8 })!;
    expect(check.over).toBe(true);
    expect(check.lines).toEqual([
      { measure: 'cost_usd', planned: cost, cap: 1000, over: true },
      { measure: 'gpu_hours', planned: gpu_hours, cap: gpu_hours! + 1, over: false },
    ]);
    const refusal = overBudgetRefusal('paper.yaml', check);
    expect(refusal).toContain(`cost ${cost!.toFixed(0)} planned vs budget.cost_usd 1000 (over)`);
    expect(refusal).toContain('Raise budget.cost_usd in the recipe');
    expect(refusal).toContain('--over-budget');
    expect(renderPlan(plan, check)).toMatch(/\nbudget: cost \d+ planned vs budget\.cost_usd 1000 \(over\); GPU-hours \d+ planned vs budget\.gpu_hours \d+ — hala run refuses it without --over-budget\n/);
  });

  it('is under when every total is within its cap, and absent (the plan as before) without a budget', async () => {
    const plan = await planCampaign(recipeOf(paper));
    const check = checkPlanBudget(plan.totals, { cost_usd: plan.totals.cost!, warn_at: 0.8 })!;
    expect(check).toEqual({ lines: [{ measure: 'cost_usd', planned: plan.totals.cost, cap: plan.totals.cost, over: false }], over: false });
    expect(renderPlan(plan, check)).not.toContain('refuses');
    expect(checkPlanBudget(plan.totals, undefined)).toBeUndefined();
    expect(renderPlan(plan)).not.toContain('budget');
    // A cap on a figure the plan leaves blank cannot be checked: it is said, never counted as over.
    expect(checkPlanBudget({}, { gpu_hours: 1, warn_at: 0.8 })).toEqual({ lines: [{ measure: 'gpu_hours', cap: 1, over: false }], over: false });
  });

  it('a budget sets a cap and keeps its name free of gates', () => {
    expect(Recipe.safeParse({ ...recipeOf(paper), budget: { warn_at: 0.5 } }).success).toBe(false);
    expect(recipeOf(withBudget('{ gpu_hours: 10 }')).budget).toEqual({ gpu_hours: 10, warn_at: 0.8 });
    expect(recipeOf(paper).budget).toBeUndefined();
    const gated = parseRecipeText(`${paper}\ngates: [{ name: budget, before: sft }]\n`, 'paper.yaml');
    expect(gated.ok ? [] : gated.problems).toEqual([expect.stringContaining('"budget" names the budget\'s raises')]);
  });

  it('hala run refuses a recipe planned over its budget (exit 2, nothing started); --over-budget starts it anyway', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'hala-budget-')), 'paper.yaml');
    writeFileSync(file, withBudget('{ cost_usd: 1000 }'));
    const refused = await hala('run', file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^hala: ${file} plans more than its budget: cost \\d+ planned vs budget\\.cost_usd 1000 \\(over\\); nothing was started\\. Raise budget\\.cost_usd`));
    const forced = await hala('run', file, '--over-budget');
    expect(forced.stdout).toMatch(/^hala: starting over budget \(--over-budget\): cost \d+ planned vs budget\.cost_usd 1000 \(over\)\n/);
    expect(forced.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
    expect(forced.code).toBe(1);
  }, 60_000);
});
