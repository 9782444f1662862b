// The Python runner workers, one process (and process group) per GPU queue role.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { QueueRole } from '../contracts/queues';
import { stopGroup } from './dev-server';
import { hubMirror, repoRoot, venvBin } from './python-env';

export type GpuRole = Exclude<QueueRole, 'cpu'>;
export const gpuRoles: GpuRole[] = ['quantize', 'infer', 'train', 'eval'];

export interface PythonWorker {
  role: GpuRole;
  queue: string;
  process: ChildProcess;
}

export function pythonWorkerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: path.join(repoRoot, 'gpu-runners'),
    PYTHONUNBUFFERED: '1',
    HALA_HUB_MIRROR: hubMirror(),
    // With a mirror, nothing may reach the real hub: fail fast instead of hanging.
    HF_HUB_OFFLINE: '1',
    TOKENIZERS_PARALLELISM: 'false',
    // Four workers share the local CPUs: one OpenMP thread each, or spinning threads make every
    // tiny op ~25x slower (bench: 16 ms vs 0.6 ms for a 1024x64 @ 64x256 matmul on 2 cores).
    OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
    ...extra,
  };
}

/** Starts one worker and resolves once it polls its queue (it prints "hala worker ready"). */
export async function startPythonWorker(role: GpuRole, queue: string, address: string, logDir: string): Promise<PythonWorker> {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `worker-${role}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(
    venvBin('python'),
    ['-m', 'hala_runners.worker', '--queue-role', role, '--task-queue', queue, '--address', address],
    { env: pythonWorkerEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  child.stderr!.pipe(log);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python worker ${role} not ready after 180 s; see ${logFile}`)), 180_000);
    child.once('exit', (code) => reject(new Error(`python worker ${role} exited (${code}); see ${logFile}`)));
    lines.on('line', (line) => {
      log.write(line + '\n');
      if (line.startsWith('hala worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { role, queue, process: child };
}

export async function stopPythonWorkers(workers: PythonWorker[]): Promise<void> {
  await Promise.all(workers.map((w) => stopGroup(w.process, 15_000)));
}
