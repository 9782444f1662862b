// The Python runner workers, one process (and process group) per GPU queue role.
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
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
    // Runners fork from a process that imported torch and transformers once (gpu-runners/hala_runners/
    // fork_server.py): 0.1 s to start instead of 10, ~30 runners in the tiny campaign on 2 cores.
    // A forked runner writes the same weights as an exec'd one (gpu-runners/tests/test_fork_server_bytes.py).
    // Production images leave it unset: on a GPU a stage lasts hours, and CUDA and vLLM want a fresh
    // interpreter per runner. A value in `base` wins ('' turns it off).
    HALA_RUNNER_PRELOAD: base.HALA_RUNNER_PRELOAD ?? 'default',
    ...extra,
  };
}

/**
 * Activities a local worker runs at once. The local stack runs on CPU, one OpenMP thread per runner:
 * with one slot the three students' SFTs trained one after another on one core while the other
 * idled, and the choose and evaluate stages queued on one eval slot (README "Where the first run's
 * time goes"). Train and eval take one slot per core; quantize (a compression, then merges of
 * seconds) and infer (its engines stay loaded in the worker) keep one. HALA_LOCAL_SLOTS overrides
 * the per-core figure (1 on a one-GPU box); so does `perCore` (a test whose faults strike "the" runner).
 */
export function localSlots(role: GpuRole, perCore?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (role !== 'train' && role !== 'eval') return 1;
  if (perCore !== undefined) return perCore;
  const set = env.HALA_LOCAL_SLOTS;
  if (set === undefined || set === '') return availableParallelism();
  const n = Number(set);
  if (!Number.isInteger(n) || n < 1) throw new Error(`HALA_LOCAL_SLOTS must be a whole number >= 1 (got '${set}'); unset it for one slot per core`);
  return n;
}

/**
 * Starts one worker and resolves once it polls its queue (it prints "hala worker ready"). It connects
 * as `env` says (platform/temporal-connection.ts writes that; the Python side is hala_runners/connection.py).
 */
export async function startPythonWorker(role: GpuRole, queue: string, logDir: string, env = pythonWorkerEnv(), slots = 1): Promise<PythonWorker> {
  const process = await startWorkerProcess({
    label: `python worker ${role}`,
    command: venvBin('python'),
    args: ['-m', 'hala_runners.worker', '--queue-role', role, '--task-queue', queue, '--max-concurrent', String(slots)],
    env,
    logDir,
    logName: `worker-${role}.log`,
  });
  return { role, queue, process };
}
