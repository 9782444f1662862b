// Starting a campaign from a validated recipe: the one place that turns a recipe into the
// workflow's input (absolute store root, recipe digest, cache flags, deterministic child ids).
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { CampaignInput } from '../contracts/campaign';
import type { Recipe } from '../contracts/recipe';
import { CODE_VERSION } from '../contracts/version';
import { HalaCampaign, HalaRecipeHash } from '../contracts/search-attributes';
import { normalizeRootUri } from '../activities/store';
import type { campaign } from '../workflows/campaign';
import { campaignStory } from '../workflows/stage-story';
import { plannedStages } from '../workflows/stages/plan';
import { repoRoot } from '../platform/python-env';
import { perStudent } from '../workflows/stages/students';

export interface StartOptions {
  id?: string;
  useCache?: boolean;
  rerun?: string[];
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
  };
}

export async function startCampaign(
  client: Client,
  recipe: Recipe,
  sha256: string,
  options: StartOptions = {},
): Promise<WorkflowHandle<typeof campaign>> {
  const input = campaignInput(recipe, sha256, options);
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
    args: [input],
    memo: { recipe: recipe.name, recipe_sha256: sha256, store_root: input.store_root },
    typedSearchAttributes: [
      { key: HalaCampaign, value: input.campaign_id },
      { key: HalaRecipeHash, value: sha256 },
    ],
  });
}
