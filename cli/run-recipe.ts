// A recipe named on the command line: checked before anything starts (every verb that takes one),
// then `hala run` itself, which `hala up --then-run` also calls once its stack is up.
import { connectClient, type TemporalConnection } from '../platform/temporal-connection';
import { plannedStages } from '../workflows/stages/plan';
import { ExitCode } from './conventions';
import { follow } from './follow';
import { loadRecipe } from './recipe-file';
import { startCampaign } from './start-campaign';
import { alreadyRunning } from './server-refusals';
import type { CampaignPlan } from './plan/estimate';
import { planRecipe } from './plan/plan-recipe';
import { budgetText, checkPlanBudget, overBudgetRefusal } from './plan/budget-check';
import type { Recipe } from '../contracts/recipe';

/** The recipe in `file`, or every problem with it on stderr and exit 2: nothing starts on a bad recipe. */
export function validRecipe(file: string) {
  const loaded = loadRecipe(file);
  if (!loaded.ok) {
    console.error(`hala: ${file} is not a valid recipe (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}); nothing was started:`);
    for (const p of loaded.problems) console.error(`  ${p}`);
    process.exit(ExitCode.refused);
  }
  return loaded;
}

export interface RunFlags { id?: string; watch?: boolean; cache: boolean; rerun?: string[]; overBudget?: boolean }

/** `hala run`: starts the campaign of a valid recipe, says where to see it, and follows it with --watch. */
export async function runRecipe(file: string, flags: RunFlags, temporal: TemporalConnection, uiUrl: string): Promise<void> {
  const { recipe, sha256 } = validRecipe(file);
  const planned = plannedStages(recipe).map((s) => s.stage);
  const unknown = (flags.rerun ?? []).filter((s) => !planned.includes(s));
  if (unknown.length > 0) {
    console.error(`hala: --rerun names no stage of ${file}: ${unknown.join(', ')}; its stages are ${planned.join(', ')}`);
    process.exit(ExitCode.refused);
  }
  const plan = await withinBudget(file, recipe, flags.overBudget ?? false);
  const c = await connectClient(temporal);
  const handle = await startCampaign(c, recipe, sha256, { id: flags.id, useCache: flags.cache, rerun: flags.rerun, plan }).catch((err: unknown) => {
    throw alreadyRunning(err, temporal.namespace) ?? err;
  });
  const url = `${uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(handle.workflowId)}`;
  console.log(`hala: started campaign ${handle.workflowId} in namespace ${temporal.namespace} (${url})`);
  const forced = flags.cache ? flags.rerun ?? [] : planned;
  if (forced.length > 0) {
    console.log(`hala: recomputing ${flags.cache ? forced.join(', ') : 'every stage'} from scratch, under fresh prefixes (no cache, no earlier checkpoints)`);
  }
  if (flags.watch) await follow(c, handle, temporal, uiUrl);
}

/**
 * The plan of a recipe with a budget, as `hala plan` makes it (measured sizes included), once it is
 * within the budget: over it, the run is refused, exit 2, unless --over-budget. The campaign is then
 * started with this plan (its critical path, its stages' figures). No budget: undefined.
 */
async function withinBudget(file: string, recipe: Recipe, overBudget: boolean): Promise<CampaignPlan | undefined> {
  if (!recipe.budget) return undefined;
  const plan = await planRecipe(recipe).catch((err: Error) => {
    // As a start without a budget does: the stage that reads the unreadable source will say why.
    console.error(`hala: the plan of ${file} cannot be made (${err.message}), so it is not checked against its budget; the campaign still holds at a cap`);
    return undefined;
  });
  if (!plan) return undefined;
  const check = checkPlanBudget(plan.totals, recipe.budget)!;
  if (check.over && !overBudget) {
    console.error(`hala: ${overBudgetRefusal(file, check)}`);
    process.exit(ExitCode.refused);
  }
  if (check.over) console.log(`hala: starting over budget (--over-budget): ${budgetText(check)}`);
  return plan;
}
