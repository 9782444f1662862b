// A campaign on the real dev server with recording stand-ins for the data-plane and GPU activities
// and the real stage cache over a temporary FileStore. Used by the workflow tests and by
// scripts/record-histories.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createCampaignReportActivities } from '../../activities/campaign-report';
import { createStageCacheActivities } from '../../activities/stage-cache';
import { createRefListActivities } from '../../activities/ref-lists';
import { createGatePreviewActivities } from '../../activities/gate-preview';
import { createQueuePollerActivities } from '../../activities/queue-pollers';
import { createStageClaimActivities } from '../../activities/stage-claims';
import { createDeploymentTargetActivities } from '../../activities/deployment-target';
import { deploymentOptions, type WorkerBuild } from '../../platform/worker-build';
import { FileStore } from '../../activities/store';
import { loadRecipe } from '../../cli/recipe-file';
import type { Recipe } from '../../contracts/recipe';
import { type Call, type DataPlane, recordingActivities, type RecordingOptions } from './fake-activities';
import type { HubFetch } from '../../activities/hub-revision-lookup';
import type { GpuActivityFns } from '../../contracts/gpu-activity-fns';
import { hubMirror } from '../../platform/python-env';
import { workflowBundle } from './temporal-env';

export interface CampaignHarness {
  recipe: Recipe;
  sha: string;
  storeDir: string;
  fakes: ReturnType<typeof recordingActivities>;
  stop(): Promise<void>;
}

export interface HarnessOptions extends Pick<RecordingOptions, 'delayMs' | 'meet' | 'fails' | 'poison' | 'outputs'> {
  /** The recipe to run (its store root is replaced by a temporary one); default recipes/tiny.yaml. */
  recipe?: Recipe;
  /**
   * Answers the hub's revision API instead of the tiny world's mirror, so any hf:// id digests (to a
   * digest of its name): for recipes whose sources are not in the mirror.
   */
  hubFetch?: HubFetch;
  /** Replaces some GPU stand-ins, given the recording ones (to delegate to): a test's slow or signalling variant. */
  gpu?: (fakes: GpuActivityFns) => Partial<GpuActivityFns>;
  /** Replaces some data-plane stand-ins, given the recording ones: a test's real activity (the translation cache's real segments). */
  cpu?: (fakes: DataPlane) => Partial<DataPlane>;
  /** Every worker of the harness joins this build (Worker Deployments); unversioned when absent. */
  build?: WorkerBuild;
  /**
   * The recipe's checks (contracts/checks.ts); default none: the recipes' own are sized for the tiny
   * world's real figures (thousands of pairs), which the fakes' (10 pairs) would always miss.
   */
  checks?: Recipe['checks'];
  /** Another harness's store directory (two builds serving one store); default a new temporary one. */
  storeDir?: string;
}

export async function startCampaignHarness(env: TestWorkflowEnvironment, opts: HarnessOptions = {}): Promise<CampaignHarness> {
  const storeDir = opts.storeDir ?? mkdtempSync(path.join(tmpdir(), 'hala-wf-'));
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const base = opts.recipe ?? loaded.recipe;
  const recipe: Recipe = { ...base, store: { ...base.store, root: `file://${storeDir}` }, checks: opts.checks ?? [] };
  const store = new FileStore(`file://${storeDir}`);
  const fakes = recordingActivities({ delayMs: opts.delayMs, meet: opts.meet, fails: opts.fails, poison: opts.poison, outputs: opts.outputs, store });
  // An empty mirror sends hf:// ids to the hub API, which `hubFetch` answers.
  const sources = opts.hubFetch ? { hubMirror: '', fetch: opts.hubFetch } : { hubMirror: hubMirror() };
  const stageCache = recordStageCache(createStageCacheActivities({ store, ...sources }), fakes.calls);
  const connection = env.nativeConnection;
  const versioning = opts.build ? { workerDeploymentOptions: deploymentOptions(opts.build) } : {};
  const workers: Worker[] = [
    await Worker.create({
      connection,
      taskQueue: recipe.queues.cpu,
      workflowBundle: await workflowBundle(),
      activities: {
        ...stageCache, ...createCampaignReportActivities({ store }), ...createRefListActivities({ store }), ...createGatePreviewActivities({ store }),
        ...createQueuePollerActivities(), ...createStageClaimActivities(), ...createDeploymentTargetActivities(opts.build), ...fakes.cpu, ...opts.cpu?.(fakes.cpu),
      },
      ...versioning,
    }),
  ];
  // Every GPU queue the recipe may schedule on: its roles' queues and its resource classes' pools.
  const gpuQueues = new Set([...(['quantize', 'infer', 'train', 'eval'] as const).map((role) => recipe.queues[role]), ...Object.values(recipe.resources.classes).map((c) => c.queue)]);
  // Heartbeats go out at most every 200 ms (not Temporal's default of up to a minute): the fakes'
  // whole run is milliseconds to seconds, and `hala watch` reads their progress from them.
  const gpu = { ...fakes.gpu, ...opts.gpu?.(fakes.gpu) };
  for (const taskQueue of gpuQueues) workers.push(await Worker.create({ connection, taskQueue, activities: gpu, maxHeartbeatThrottleInterval: '200ms', ...versioning }));
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

/** The real stage cache, with its calls recorded beside the fakes' (what each stage keyed and produced). */
function recordStageCache(cache: ReturnType<typeof createStageCacheActivities>, calls: Call[]): ReturnType<typeof createStageCacheActivities> {
  return {
    openStage: async (input) => {
      calls.push({ name: 'openStage', input: input as unknown as Record<string, unknown>, start: Date.now() });
      return cache.openStage(input);
    },
    closeStage: async (input) => {
      calls.push({ name: 'closeStage', input: input as unknown as Record<string, unknown>, start: Date.now() });
      return cache.closeStage(input);
    },
  };
}
