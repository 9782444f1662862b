// Starts a worker as a child process in its own process group (so it can be stopped with
// everything it started) and resolves once it prints "hala worker ready" (it polls its queue).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface WorkerProcessSpec {
  label: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Log file name below logDir; appended to across restarts. */
  logName: string;
  readyTimeoutMs?: number;
}

export async function startWorkerProcess(spec: WorkerProcessSpec): Promise<ChildProcess> {
  mkdirSync(spec.logDir, { recursive: true });
  const logFile = path.join(spec.logDir, spec.logName);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(spec.command, spec.args, { env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stderr!.pipe(log);
  const lines = createInterface({ input: child.stdout! });
  const timeoutMs = spec.readyTimeoutMs ?? 180_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${spec.label} not ready after ${timeoutMs / 1000} s; see ${logFile}`)), timeoutMs);
      child.once('exit', (code, signal) => reject(new Error(`${spec.label} exited (${signal ?? code}) before it was ready; see ${logFile}`)));
      lines.on('line', (line) => {
        log.write(line + '\n');
        if (line.startsWith('hala worker ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (err) {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    throw err;
  }
  return child;
}
