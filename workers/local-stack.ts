// The whole local stack `hala up` and the end-to-end tests run: the Temporal dev server, the CPU
// worker and the four Python runner workers (on CPU here, on GPUs in production), each worker a
// supervised child process that is restarted when it dies — as a Deployment would in production.
// Given a configured cluster instead (a profile or TEMPORAL_ADDRESS naming its address), the same
// workers serve that cluster and no dev server starts. Either way `hala setup`'s code prepares the
// namespace before any worker polls it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Recipe } from '../contracts/recipe';
import { DefaultQueues, type QueueRole } from '../contracts/queues';
import { setupNamespace, type SetupReport } from '../platform/cluster-setup';
import { startDevServer, type DevServerOptions, type RunningDevServer } from './dev-server';
import { gpuRoles, localSlots, pythonWorkerEnv, startPythonWorker } from './python-workers';
import { envForProfileFile, envWithFlags, localDefaults, openConnection, resolveConnection, writeProfileFile, type TemporalConnection } from '../platform/temporal-connection';
import { hubMirror, repoRoot } from '../platform/python-env';
import { supervise, type SupervisedProcess } from './supervisor';
import { startWorkerProcess } from './worker-process';

export interface LocalStackOptions {
  /** Where the SQLite history, logs and the default store live. */
  stateDir?: string;
  port?: number;
  uiPort?: number;
  /** In-memory server instead of the SQLite file (its history does not survive a server restart). */
  ephemeral?: boolean;
  queues?: Recipe['queues'];
  storeRoot?: string;
  /** Extra environment for every worker (e.g. HALA_WORK_DIR for a test's own scratch space). */
  workerEnv?: Record<string, string>;
  /** Activities the train and eval workers each run at once; default one per core (localSlots). */
  slots?: number;
  /**
   * The connection `hala` resolved. With its address configured, the stack serves that cluster and
   * starts no dev server; otherwise only its namespace is used (created on the dev server at start).
   */
  temporal?: TemporalConnection;
}

export interface LocalStack {
  address: string;
  namespace: string;
  /** How its workers connect (for a client of the same server and namespace). */
  temporal: TemporalConnection;
  uiUrl: string;
  /** What `hala setup`'s code found and did on the stack's namespace. */
  setup: SetupReport;
  storeRoot: string;
  logDir: string;
  /** One supervised process per queue role: `cpu` (TypeScript) and the four Python roles. */
  workers: Record<QueueRole, SupervisedProcess>;
  /** Stops the dev server and starts it again on the same port and SQLite file. */
  restartServer(): Promise<void>;
  stop(): Promise<void>;
}

/** Where `hala up` keeps its history, logs and default store when no other directory is given. */
export const defaultStateDir = path.join(repoRoot, '.hala');

/** The dev server `hala up` runs: its ports, and its SQLite history and log under `stateDir`. */
export function localDevServerOptions(stateDir: string, options: Pick<LocalStackOptions, 'port' | 'uiPort' | 'ephemeral'> = {}): DevServerOptions {
  return {
    port: options.port ?? 7233,
    uiPort: options.uiPort ?? 8233,
    dbFile: options.ephemeral ? undefined : path.join(stateDir, 'temporal.db'),
    logFile: path.join(stateDir, 'logs', 'temporal.log'),
  };
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stateDir = options.stateDir ?? defaultStateDir;
  const queues = options.queues ?? DefaultQueues;
  const logDir = path.join(stateDir, 'logs');
  const storeRoot = options.storeRoot ?? `file://${path.join(stateDir, 'store')}`;
  const cluster = options.temporal?.addressConfigured ? options.temporal : undefined;
  const namespace = options.temporal?.namespace ?? localDefaults.namespace;
  const serverOptions: DevServerOptions = {
    ...localDevServerOptions(stateDir, options),
    namespaces: namespace === localDefaults.namespace ? [] : [namespace],
  };
  let server: RunningDevServer | undefined = cluster ? undefined : await startDevServer(serverOptions);
  // The dev server is named by a profile file of the stack's own, so its workers (and `temporal`
  // commands given TEMPORAL_CONFIG_FILE) reach it whatever the shell's TEMPORAL_* variables say.
  const profileFile = path.join(stateDir, 'temporal.toml');
  if (server) {
    mkdirSync(stateDir, { recursive: true });
    writeProfileFile(profileFile, { address: server.address, namespace });
  }
  const temporal = cluster ?? resolveConnection({}, { TEMPORAL_CONFIG_FILE: profileFile });
  const { address } = temporal;

  let setup: SetupReport;
  try {
    const connection = await openConnection(temporal);
    try {
      setup = await setupNamespace(connection, temporal);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await server?.stop();
    throw err;
  }

  // This process plans the campaigns it starts on the stack (hala up --then-run, the end-to-end
  // tests): it reads hf:// sources through the same offline hub as the workers, or the plan could not
  // size the tiny world's stages and a check of the plan (`of_plan`) would have nothing to compare with.
  process.env.HALA_HUB_MIRROR ||= hubMirror();

  // Every worker connects as `hala` did: to a cluster through the same profile, variables and flags.
  const connectionEnv = cluster ? envWithFlags(process.env, cluster.flags) : envForProfileFile(process.env, profileFile);
  // Workers watch this process: killed with -9, it cannot stop them, so they stop themselves.
  const extraEnv = { HALA_LAUNCHER_PID: String(process.pid), ...options.workerEnv };

  // One start function per queue role; each runs under a supervisor that restarts it when it dies.
  const startWorker = async (role: QueueRole) =>
    role === 'cpu'
      ? startWorkerProcess({
          label: 'cpu worker',
          command: process.execPath,
          args: ['--import', 'tsx', path.join(__dirname, 'cpu-worker.ts'), '--task-queue', queues.cpu, '--store', storeRoot],
          // The same offline hub the Python workers read, so hf:// ids agree on both sides.
          env: { ...connectionEnv, HALA_HUB_MIRROR: hubMirror(), ...extraEnv },
          logDir,
          logName: 'worker-cpu.log',
        })
      : (await startPythonWorker(role, queues[role], logDir, pythonWorkerEnv(extraEnv, connectionEnv), localSlots(role, options.slots))).process;

  // Python workers import torch (seconds each): start all workers together, and keep track of every
  // one that came up so that a failure of another never leaves it running.
  const roles: QueueRole[] = ['cpu', ...gpuRoles];
  const results = await Promise.allSettled(roles.map((role) => supervise({ label: `${role} worker`, start: () => startWorker(role) })));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((w) => w.stop()));
    await server?.stop();
    throw failed.reason;
  }
  const workers = Object.fromEntries(roles.map((role, i) => [role, started[i]!])) as Record<QueueRole, SupervisedProcess>;

  return {
    address,
    namespace,
    temporal,
    uiUrl: server?.uiUrl ?? process.env.HALA_UI_URL ?? '',
    setup,
    storeRoot,
    logDir,
    workers,
    async restartServer() {
      if (!server) throw new Error(`the stack serves ${cluster!.describe}: it has no dev server to restart`);
      if (!serverOptions.dbFile) throw new Error('an ephemeral (in-memory) dev server loses every campaign on restart; start the stack without ephemeral');
      await server.stop();
      server = await startDevServer(serverOptions);
    },
    async stop() {
      await Promise.all(Object.values(workers).map((w) => w.stop()));
      await server?.stop();
    },
  };
}
