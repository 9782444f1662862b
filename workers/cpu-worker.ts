// The CPU worker: every workflow, and the TypeScript activities (data plane, stage cache, reports).
// Run alone:  npx tsx workers/cpu-worker.ts [--profile NAME] [--address HOST:PORT] [--namespace NS]
//             [--task-queue hala-cpu] [--store file://.hala/store]
// It connects as every process here does (platform/temporal-connection.ts): the flags, then the
// TEMPORAL_* variables, then the profile file; nothing configured, the dev server on 127.0.0.1:7233.
// `hala up` runs it in its own process together with the dev server and the Python workers.
import path from 'node:path';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { DefaultQueues } from '../contracts/queues';
import { createCampaignReportActivities } from '../activities/campaign-report';
import { createCpuActivities } from '../activities/cpu';
import { createGatePreviewActivities } from '../activities/gate-preview';
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import { createStageCacheActivities } from '../activities/stage-cache';
import { createRefListActivities } from '../activities/ref-lists';
import { createTranslationCacheActivities } from '../activities/translation-cache/split-activity';
import { createQueuePollerActivities } from '../activities/queue-pollers';
import { createStageClaimActivities } from '../activities/stage-claims';
import { createDoctorCpuActivities } from '../activities/doctor-cpu';
import { createDeploymentTargetActivities } from '../activities/deployment-target';
import { createStore, s3OptionsFromEnv, type ArtifactStore } from '../activities/store';
import { repoRoot } from '../platform/python-env';
import { dataConverterFromEnv } from '../security/data-converter';
import { resolveConnection } from '../platform/temporal-connection';
import { deploymentOptions, workerBuildFromEnv, type WorkerBuild } from '../platform/worker-build';

export interface CpuWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** Every campaign this worker serves writes below this root. */
  storeRoot: string;
  /** Offline hub mirror for hf:// sources (the local stack passes the tiny world's); default $HALA_HUB_MIRROR. */
  hubMirror?: string;
  /** A prebuilt workflow bundle (tests build it once); by default the worker bundles workflows/. */
  workflowBundle?: WorkflowBundleOption;
  /** The build it joins (platform/worker-build.ts); default from HALA_BUILD_ID, unversioned when unset. */
  build?: WorkerBuild;
}

/**
 * Every CPU activity, checked against the declaration workflows proxy (contracts/cpu-activity-fns.ts):
 * `satisfies` fails typecheck when an activity is missing or its signature differs, and
 * `OnlyDeclared` when one is registered that workflows cannot call by name.
 */
export function cpuActivitiesFor(store: ArtifactStore, hubMirror?: string, build?: WorkerBuild) {
  const activities = {
    ...createCpuActivities({ store, hubMirror }),
    ...createStageCacheActivities({ store, hubMirror }),
    ...createCampaignReportActivities({ store }),
    ...createRefListActivities({ store }),
    ...createTranslationCacheActivities({ store }),
    ...createGatePreviewActivities({ store }),
    ...createQueuePollerActivities(),
    ...createStageClaimActivities(),
    ...createDeploymentTargetActivities(build),
    // `hala doctor` checks the store root of the recipe it is given, not only this worker's own.
    ...createDoctorCpuActivities({ openStore: (root) => createStore(root, { baseDir: repoRoot, s3: s3OptionsFromEnv() }) }),
  } satisfies CpuActivityFns;
  return activities satisfies OnlyDeclared<typeof activities>;
}

/** `T` when it has no key beyond CpuActivityFns, else a type that names the extra keys (and no object satisfies). */
type OnlyDeclared<T> = Exclude<keyof T, keyof CpuActivityFns> extends never ? T : { undeclaredActivities: Exclude<keyof T, keyof CpuActivityFns> };

export async function createCpuWorker(options: CpuWorkerOptions): Promise<Worker> {
  const store = createStore(options.storeRoot, { baseDir: repoRoot, s3: s3OptionsFromEnv() });
  const build = options.build ?? workerBuildFromEnv();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DefaultQueues.cpu,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: path.join(__dirname, '../workflows/index.ts') }),
    activities: cpuActivitiesFor(store, options.hubMirror, build),
    ...(build && { workerDeploymentOptions: deploymentOptions(build) }),
    // Encrypts payloads (rows, configs) in history when HALA_CODEC_KEY is set.
    dataConverter: dataConverterFromEnv(),
  });
}

/**
 * Started by a launcher that names itself in HALA_LAUNCHER_PID (`hala up`): if it is killed without
 * stopping us (kill -9), shut down gracefully instead of serving on as an orphan.
 */
function stopWhenLauncherDies(worker: Worker): void {
  const launcher = Number(process.env.HALA_LAUNCHER_PID);
  if (!launcher) return;
  const timer = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(timer);
    console.error(`hala worker: launcher ${launcher} is gone; shutting down`);
    worker.shutdown();
  }, 1000);
  timer.unref();
}

async function main() {
  const arg = (flag: string, fallback: string) => {
    const i = process.argv.indexOf(flag);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
  };
  const optional = (flag: string) => arg(flag, '') || undefined;
  const temporal = resolveConnection({ profile: optional('--profile'), address: optional('--address'), namespace: optional('--namespace') });
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  const build = workerBuildFromEnv();
  const worker = await createCpuWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue: arg('--task-queue', DefaultQueues.cpu),
    storeRoot: arg('--store', process.env.HALA_STORE_ROOT ?? 'file://.hala/store'),
    build,
  });
  const version = build ? ` build=${build.deploymentName}:${build.buildId}` : '';
  console.log(`hala worker ready queue=${arg('--task-queue', DefaultQueues.cpu)} temporal=${temporal.describe}${version}`);
  stopWhenLauncherDies(worker);
  await worker.run();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
