// Starting a campaign from a validated recipe: the one place that turns a recipe into the
// workflow's input (absolute store root, recipe digest, cache flags, deterministic child ids).
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { CampaignInput } from '../contracts/campaign';
import type { Recipe } from '../contracts/recipe';
import type { PlannedSpend } from '../contracts/budget';
import { CODE_VERSION } from '../contracts/version';
import { HalaCampaign, HalaRecipeHash } from '../contracts/search-attributes';
import { campaignPriority } from '../contracts/scheduling';
import { normalizeRootUri } from '../activities/store';
import type { campaign } from '../workflows/campaign';
import { campaignStory } from '../workflows/stage-story';
import { plannedStages } from '../workflows/stages/plan';
import { repoRoot } from '../platform/python-env';
import { perStudent } from '../workflows/stages/students';
import type { CampaignPlan } from './plan/estimate';
import { planRecipe } from './plan/plan-recipe';
import { plannedSpendOf } from './plan/budget-check';
import { type PlannedRows, unsizedChecks } from '../contracts/checks';

export interface StartOptions {
  id?: string;
  useCache?: boolean;
  rerun?: string[];
  /** The stages that run one priority key higher (the plan's critical path); none when absent. */
  criticalPath?: string[];
  /** The plan's figures per stage, which the campaign projects running work with; default: the plan's, when the recipe sets a budget. */
  plannedSpend?: PlannedSpend;
  /** The plan's rows per stage, what a check's `of_plan` bound is a fraction of; default: the plan's, when the recipe declares checks. */
  plannedRows?: PlannedRows;
  /** The recipe's plan when the caller has made it already (hala run, to check it against the budget). */
  plan?: CampaignPlan;
}

export function defaultCampaignId(recipe: Recipe, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${recipe.name}-${stamp}`;
}

export function campaignInput(recipe: Recipe, sha256: string, options: StartOptions = {}): CampaignInput {
  return {
    campaign_id: options.id ?? defaultCampaignId(recipe),
    recipe,
    recipe_sha256: sha256,
    store_root: normalizeRootUri(recipe.store.root, repoRoot),
    use_cache: options.useCache ?? true,
    rerun: options.rerun ?? [],
    code_version: CODE_VERSION,
    critical_path: options.criticalPath ?? [],
    ...(options.plannedSpend && { planned_spend: options.plannedSpend }),
    ...(options.plannedRows && { planned_rows: options.plannedRows }),
  };
}

export async function startCampaign(
  client: Client,
  recipe: Recipe,
  sha256: string,
  options: StartOptions = {},
): Promise<WorkflowHandle<typeof campaign>> {
  const plan = options.plan ?? (await planIfPossible(recipe));
  const input = campaignInput(recipe, sha256, {
    criticalPath: plan?.critical_path?.stages,
    ...(recipe.budget && plan && { plannedSpend: plannedSpendOf(plan) }),
    ...(recipe.checks.length > 0 && plan && { plannedRows: plannedRowsOf(plan) }),
    ...options,
  });
  refuseUnsizedChecks(recipe, input.planned_rows, plan);
  // Its page in the Temporal UI: the recipe, its students, a link to each stage.
  const story = campaignStory({
    recipe: recipe.name,
    description: recipe.description,
    recipe_sha256: sha256,
    students: perStudent.names(recipe),
    stages: plannedStages(recipe).map((s) => s.stage),
    campaign_id: input.campaign_id,
    namespace: client.options.namespace,
  });
  return client.workflow.start<typeof campaign>('campaign', {
    staticSummary: story.summary,
    staticDetails: story.details,
    taskQueue: recipe.queues.cpu,
    workflowId: input.campaign_id,
    // The campaign's own workflow tasks; its children and activities are given theirs explicitly.
    priority: campaignPriority(recipe.scheduling, input.campaign_id),
    args: [input],
    memo: { recipe: recipe.name, recipe_sha256: sha256, store_root: input.store_root },
    typedSearchAttributes: [
      { key: HalaCampaign, value: input.campaign_id },
      { key: HalaRecipeHash, value: sha256 },
    ],
  });
}

/**
 * The plan `hala plan` prints, made the same way: its critical path and, for a recipe with a budget,
 * its stages' figures go to the campaign. A local source the plan cannot read (the stage that reads
 * it says why, with its field) gives none: every stage then runs at the recipe's priority, running
 * stages are projected at nothing beyond their spend, and the campaign starts all the same.
 */
const planIfPossible = (recipe: Recipe): Promise<CampaignPlan | undefined> => planRecipe(recipe).catch(() => undefined);

/**
 * A check of the plan whose stage the plan cannot size could only miss, after its stage has spent its
 * GPU-hours: refuse to start, naming the check and what the plan lacks (`hala plan` lists the same).
 */
function refuseUnsizedChecks(recipe: Recipe, planned: PlannedRows | undefined, plan: CampaignPlan | undefined): void {
  const unsized = unsizedChecks(recipe.checks, planned);
  if (unsized.length === 0) return;
  const gaps = plan?.gaps.length ? ` The plan lacks: ${plan.gaps.join('; ')}.` : ' The plan could not be made (`hala plan` says why).';
  throw new Error(
    `checks ${unsized.map((c) => c.name).join(', ')} compare with the plan (of_plan), which cannot size ${[...new Set(unsized.map((c) => c.after))].join(', ')}:${gaps} ` +
      'State the figure in the recipe\'s estimates, make the source readable here (HALA_HUB_MIRROR for hf:// ids), or give the check a number.',
  );
}

/** The plan's rows in and out of each stage, as the campaign's checks compare with them. */
export function plannedRowsOf(plan: CampaignPlan): PlannedRows {
  return Object.fromEntries(plan.stages.map((s) => [s.stage, { ...(s.rows_in !== undefined && { rows_in: s.rows_in }), ...(s.rows_out !== undefined && { rows_out: s.rows_out }) }]));
}
