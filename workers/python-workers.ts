// The Python runner workers, one process (and process group) per GPU queue role.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { QueueRole } from '../contracts/queues';
import { hubMirror, pinnedCpuKernels, repoRoot, venvBin } from '../platform/python-env';
import { startWorkerProcess } from './worker-process';

export type GpuRole = Exclude<QueueRole, 'cpu'>;
export const gpuRoles: GpuRole[] = ['quantize', 'infer', 'train', 'eval'];

export interface PythonWorker {
  role: GpuRole;
  queue: string;
  process: ChildProcess;
}

/** `base` carries the connection (TEMPORAL_* variables, a profile file): the worker reads it through envconfig. */
export function pythonWorkerEnv(extra: Record<string, string> = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    PYTHONPATH: path.join(repoRoot, 'gpu-runners'),
    PYTHONUNBUFFERED: '1',
    HALA_HUB_MIRROR: hubMirror(),
    // With a mirror, nothing may reach the real hub: fail fast instead of hanging.
    HF_HUB_OFFLINE: '1',
    TOKENIZERS_PARALLELISM: 'false',
    // Four workers share the local CPUs: one OpenMP thread each, or spinning threads make every
    // tiny op ~25x slower (bench: 16 ms vs 0.6 ms for a 1024x64 @ 64x256 matmul on 2 cores).
    OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
    // The same CPU kernels on every processor, so the tiny campaign's figures do not move by host.
    ...pinnedCpuKernels(base),
    ...extra,
  };
}

/**
 * Starts one worker and resolves once it polls its queue (it prints "hala worker ready"). It connects
 * as `env` says (platform/temporal-connection.ts writes that; the Python side is hala_runners/connection.py).
 */
export async function startPythonWorker(role: GpuRole, queue: string, logDir: string, env = pythonWorkerEnv()): Promise<PythonWorker> {
  const process = await startWorkerProcess({
    label: `python worker ${role}`,
    command: venvBin('python'),
    args: ['-m', 'hala_runners.worker', '--queue-role', role, '--task-queue', queue],
    env,
    logDir,
    logName: `worker-${role}.log`,
  });
  return { role, queue, process };
}
