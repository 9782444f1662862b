// The whole local stack `hala up` and the end-to-end tests run: Temporal dev server, the CPU
// worker (in this process) and the four Python runner workers (on CPU here, on GPUs in production).
import path from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Recipe } from '../contracts/recipe';
import { DefaultQueues } from '../contracts/queues';
import { halaSearchAttributes } from '../contracts/search-attributes';
import { createCpuWorker } from './cpu-worker';
import { startDevServer, type RunningDevServer } from './dev-server';
import { gpuRoles, startPythonWorker, stopPythonWorkers, type PythonWorker } from './python-workers';
import { hubMirror, repoRoot } from './python-env';

export interface LocalStackOptions {
  /** Where the SQLite history, logs and the default store live. */
  stateDir?: string;
  port?: number;
  uiPort?: number;
  /** In-memory server (tests) instead of the SQLite file. */
  ephemeral?: boolean;
  queues?: Recipe['queues'];
  storeRoot?: string;
}

export interface LocalStack {
  address: string;
  uiUrl: string;
  storeRoot: string;
  cpuWorker: Worker;
  pythonWorkers: PythonWorker[];
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stateDir = options.stateDir ?? path.join(repoRoot, '.hala');
  const queues = options.queues ?? DefaultQueues;
  const logDir = path.join(stateDir, 'logs');
  const storeRoot = options.storeRoot ?? `file://${path.join(stateDir, 'store')}`;
  const server: RunningDevServer = await startDevServer({
    port: options.port ?? 7233,
    uiPort: options.uiPort ?? 8233,
    dbFile: options.ephemeral ? undefined : path.join(stateDir, 'temporal.db'),
    logFile: path.join(logDir, 'temporal.log'),
    searchAttributes: Object.fromEntries(halaSearchAttributes.map((k) => [k.name, 'Keyword'])),
  });
  const started: PythonWorker[] = [];
  try {
    // Python workers import torch (seconds each): start them together, and keep track of every one
    // that came up so that a failure of another never leaves it running.
    const results = await Promise.allSettled(gpuRoles.map((role) => startPythonWorker(role, queues[role], server.address, logDir)));
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const pythonWorkers = [...started];
    const connection = await NativeConnection.connect({ address: server.address });
    // The same offline hub the Python workers read (pythonWorkerEnv), so hf:// ids agree on both sides.
    const cpuWorker = await createCpuWorker({ connection, taskQueue: queues.cpu, storeRoot, hubMirror: hubMirror() });
    const running = cpuWorker.run();
    return {
      address: server.address,
      uiUrl: server.uiUrl,
      storeRoot,
      cpuWorker,
      pythonWorkers,
      async stop() {
        cpuWorker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
        await stopPythonWorkers(pythonWorkers);
        await server.stop();
      },
    };
  } catch (err) {
    await stopPythonWorkers(started);
    await server.stop();
    throw err;
  }
}
