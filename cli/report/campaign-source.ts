// Where `hala report` finds a campaign: the summary it wrote when it ended (no Temporal needed, and it
// outlives history retention), else the running campaign itself (its progress query, and the recipe
// from its start event). A summary carries the recipe it ran since `recipe_spec`; older ones price nothing.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { CampaignInput, CampaignProgress } from '../../contracts/campaign';
import { Recipe } from '../../contracts/recipe';
import type { ArtifactStore } from '../../activities/store';
import { readCampaignSummary } from '../lineage-source';
import { progressQuery } from '../../workflows/definitions';

export interface CampaignView {
  progress: CampaignProgress;
  source: 'summary' | 'live';
  recipe_name?: string;
  /** The recipe the campaign ran, when it can be read; `recipe_note` says why not. */
  recipe?: Recipe;
  recipe_note?: string;
}

export class CampaignNotFound extends Error {}

export async function campaignView(id: string, store: ArtifactStore, connect: () => Promise<Client>): Promise<CampaignView> {
  const summary = await readCampaignSummary(store, id);
  if (summary) return { progress: summary.progress, source: 'summary', recipe_name: summary.recipe, ...recipeOf(summary.recipe_spec, 'the summary') };
  const client = await connect().catch((err: Error) => {
    throw new Error(`no summary of campaign ${id} in ${store.rootUri}, and Temporal cannot be reached for its live progress (${err.message}); pass --store, or --address`);
  });
  return live(id, client, store.rootUri);
}

async function live(id: string, client: Client, storeRoot: string): Promise<CampaignView> {
  const handle = client.workflow.getHandle(id);
  try {
    const progress = await handle.query(progressQuery);
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = await decodeFromPayloadsAtIndex<CampaignInput>(client.options.loadedDataConverter, 0, started?.input?.payloads);
    return { progress, source: 'live', recipe_name: input.recipe.name, ...recipeOf(input.recipe, "the campaign's start event") };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new CampaignNotFound(`no campaign ${id}: no summary in ${storeRoot} (pass --store?) and no such workflow in this namespace (hala ls lists them)`);
    }
    throw err;
  }
}

function recipeOf(spec: unknown, where: string): Pick<CampaignView, 'recipe' | 'recipe_note'> {
  if (spec === undefined) return { recipe_note: `${where} carries no recipe (written before reports priced stages)` };
  const parsed = Recipe.safeParse(spec);
  if (parsed.success) return { recipe: parsed.data };
  return { recipe_note: `the recipe in ${where} does not parse today (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})` };
}
