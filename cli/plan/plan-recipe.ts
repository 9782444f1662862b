// A recipe's plan as `hala plan` prints it: the recipe's estimates, with the sizes of its local
// sources measured. `hala plan`, `hala run` (the budget check) and every campaign start (the critical
// path, the budget's figures) make it here.
import type { Recipe } from '../../contracts/recipe';
import { type CampaignPlan, planCampaign } from './estimate';
import { measureLocalSources } from './measure';

export async function planRecipe(recipe: Recipe): Promise<CampaignPlan> {
  return planCampaign(recipe, await measureLocalSources(recipe));
}
