// Where `hala lineage` reads from: the lineage records and campaign summaries in the store.
import { createStore, s3OptionsFromEnv, storeLayout, type ArtifactStore } from '../activities/store';
import { LineageRecord } from '../contracts/lineage';
import { CampaignSummary } from '../contracts/campaign-summary';
import { repoRoot } from '../platform/python-env';
import { walkLineage, type LineageGraph } from './lineage';
import { declarationOf } from '../workflows/stages/plan';

/** The stages whose artifacts are a campaign's final products. */
const isProduct = (kind: string) => declarationOf(kind)?.product === true;

/** The store a CLI verb reads, from its --store flag (file:// relative to the repository, or s3://). */
export const openStore = (storeRoot: string): ArtifactStore => createStore(storeRoot, { baseDir: repoRoot, s3: s3OptionsFromEnv() });

/** The lineage record of a digest, or undefined when the store has none (a raw source, another store). */
export const lineageLoader = (store: ArtifactStore) => async (sha: string) => {
  const uri = storeLayout.lineage(store.rootUri, sha);
  if (!(await store.exists(uri))) return undefined;
  return LineageRecord.parse(JSON.parse((await store.getBytes(uri)).toString('utf8')));
};

export async function lineageOf(target: string, storeRoot: string): Promise<LineageGraph> {
  const store = openStore(storeRoot);
  const load = lineageLoader(store);
  if (/^[0-9a-f]{64}$/.test(target)) return walkLineage([target], load);

  const summary = await readCampaignSummary(store, target);
  if (!summary) {
    throw new Error(`no summary for campaign ${target} in ${store.rootUri} (campaigns that ended); pass an artifact sha256 instead, or --store`);
  }
  const finals = summary.progress.stages.filter((s) => isProduct(s.kind)).flatMap((s) => s.artifacts.map((a) => a.sha256));
  return walkLineage(finals, load);
}

/** The summary a campaign wrote when it ended, validated; undefined when the store has none. */
export async function readCampaignSummary(store: ArtifactStore, id: string): Promise<CampaignSummary | undefined> {
  const uri = storeLayout.campaignSummary(store.rootUri, id);
  if (!(await store.exists(uri))) return undefined;
  const parsed = CampaignSummary.safeParse(JSON.parse((await store.getBytes(uri)).toString('utf8')));
  if (!parsed.success) throw new Error(`${uri} is not a campaign summary: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
