// Workflow-side handles on every activity, bound to the campaign's queues and timeouts.
import { proxyActivities } from '@temporalio/workflow';
import type { Recipe } from '../contracts/recipe';
import type { CpuActivityFns } from '../activities/cpu-api';
import { gpuActivityOptions, type GpuActivityFns, type GpuActivityWire } from '../activities/gpu';
import { GpuActivityTable, gpuActivityNames, type GpuActivityName } from '../contracts/gpu-activities';
import { nonRetryableErrorTypes } from '../contracts/errors';

/** What the proxies need of a campaign: where each role's queue is, how long silence may last, how often to retry. */
export type ActivityPlacement = Pick<Recipe, 'queues' | 'timeouts' | 'retries'>;

export function cpuActivities({ queues, timeouts }: ActivityPlacement): CpuActivityFns {
  return proxyActivities<CpuActivityFns>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '2h',
    heartbeatTimeout: `${timeouts.heartbeat_s ?? 120}s`,
    retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes },
  });
}

/**
 * One proxy per Python activity, each on the queue of its role (quantize, infer, train, eval), each
 * call told how its runner is watched (stall timeout, how many runner failures end it).
 */
export function gpuActivities({ queues, timeouts, retries }: ActivityPlacement): GpuActivityFns {
  const proxy = (name: GpuActivityName) => {
    const call = proxyActivities<GpuActivityWire>(gpuActivityOptions(name, queues[GpuActivityTable[name].role], timeouts.heartbeat_s))[name];
    const supervision = { stall_s: timeouts.stall_s ?? GpuActivityTable[name].stall_s, runner_failed_attempts: retries.runner_failed };
    return (input: object) => (call as (i: object) => Promise<unknown>)({ ...input, supervision });
  };
  // One proxy per name: each needs its own options (queue, timeouts), so one proxyActivities call cannot serve all.
  return Object.fromEntries(gpuActivityNames.map((name) => [name, proxy(name)])) as unknown as GpuActivityFns;
}
