// A campaign on the real dev server with recording stand-ins for the data-plane and GPU activities
// and the real stage cache over a temporary FileStore. Used by the workflow tests and by
// scripts/record-histories.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createCampaignOutputActivities } from '../../activities/campaign-outputs';
import { createStageCacheActivities } from '../../activities/stage-cache';
import { createRefListActivities } from '../../activities/ref-lists';
import { FileStore } from '../../activities/store';
import { loadRecipe } from '../../cli/recipe-file';
import type { Recipe } from '../../contracts/recipe';
import { recordingActivities, type RecordingOptions } from './fake-activities';
import { hubMirror } from '../../workers/python-env';
import { workflowBundle } from './temporal-env';

export interface CampaignHarness {
  recipe: Recipe;
  sha: string;
  storeDir: string;
  fakes: ReturnType<typeof recordingActivities>;
  stop(): Promise<void>;
}

export async function startCampaignHarness(
  env: TestWorkflowEnvironment,
  opts: Pick<RecordingOptions, 'delayMs' | 'meet'> = {},
): Promise<CampaignHarness> {
  const storeDir = mkdtempSync(path.join(tmpdir(), 'hala-wf-'));
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const recipe: Recipe = { ...loaded.recipe, store: { ...loaded.recipe.store, root: `file://${storeDir}` } };
  const store = new FileStore(`file://${storeDir}`);
  const fakes = recordingActivities({ delayMs: opts.delayMs, meet: opts.meet, store });
  const connection = env.nativeConnection;
  const workers: Worker[] = [
    await Worker.create({
      connection,
      taskQueue: recipe.queues.cpu,
      workflowBundle: await workflowBundle(),
      activities: { ...createStageCacheActivities({ store, hubMirror: hubMirror() }), ...createCampaignOutputActivities({ store }), ...createRefListActivities({ store }), ...fakes.cpu },
    }),
  ];
  for (const role of ['quantize', 'infer', 'train', 'eval'] as const) {
    workers.push(await Worker.create({ connection, taskQueue: recipe.queues[role], activities: fakes.gpu }));
  }
  const running = workers.map((w) => w.run());
  return {
    recipe,
    sha: loaded.sha256,
    storeDir,
    fakes,
    async stop() {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    },
  };
}
