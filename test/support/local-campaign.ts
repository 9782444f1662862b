// One campaign of a recipe file on the real local stack (dev server, CPU worker, the Python workers
// on CPU), watched to its end: what an end-to-end test of a recipe needs. The stack stays up for
// the test's own checks; stop() ends it and removes its state unless a check failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadRecipe } from '../../cli/recipe-file';
import { startCampaign } from '../../cli/start-campaign';
import { watchCampaign } from '../../cli/watch';
import type { Recipe } from '../../contracts/recipe';
import { dataConverterFromEnv } from '../../security/data-converter';
import type { CampaignResult } from '../../workflows/campaign';
import { startLocalStack, type LocalStack } from '../../workers/local-stack';
import { freePort } from './ports';

export interface LocalCampaign {
  stack: LocalStack;
  client: Client;
  recipe: Recipe;
  result: CampaignResult;
  wallSeconds: number;
  stateDir: string;
  /** Stops the stack; keeps its logs (and says where) when `keepLogs`. */
  stop(keepLogs: boolean): Promise<void>;
}

/** Runs `recipeFile` (relative to the repository) as campaign `id`, its store in the stack's state directory. */
export async function runLocalCampaign(recipeFile: string, id: string, label = id): Promise<LocalCampaign> {
  const stateDir = mkdtempSync(path.join(tmpdir(), `hala-${id}-`));
  const loaded = loadRecipe(path.join(__dirname, '../..', recipeFile));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const stack = await startLocalStack({ stateDir, ephemeral: true, port: await freePort(), uiPort: await freePort(), workerEnv: { HALA_WORK_DIR: path.join(stateDir, 'work') } });
  const stop = async (keepLogs: boolean) => {
    await stack.stop();
    if (keepLogs) console.error(`${label}: logs kept in ${stateDir}/logs`);
    else rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const client = new Client({ connection: await Connection.connect({ address: stack.address }), dataConverter: dataConverterFromEnv() });
    const recipe = { ...loaded.recipe, store: { ...loaded.recipe.store, root: stack.storeRoot } };
    const t0 = Date.now();
    const handle = await startCampaign(client, recipe, loaded.sha256, { id });
    const out = { write: (text: string) => process.stdout.write(text.replace(/^(?=.)/gm, `${label} `)) };
    const watching = watchCampaign(client, handle.workflowId, { mode: 'plain', colour: false, namespace: 'default', intervalMs: 5000, out });
    const result = await handle.result();
    await watching;
    return { stack, client, recipe, result, wallSeconds: (Date.now() - t0) / 1000, stateDir, stop };
  } catch (err) {
    await stop(true);
    throw err;
  }
}
