// Workflow-side handles on every activity, bound to the campaign's queues and timeouts.
import { proxyActivities } from '@temporalio/workflow';
import type { Recipe } from '../contracts/recipe';
import type { CpuActivityFns } from '../activities/cpu-api';
import { gpuActivityOptions, type GpuActivityFns } from '../activities/gpu';
import { GpuActivityTable, gpuActivityNames, type GpuActivityName } from '../contracts/gpu-activities';
import { nonRetryableErrorTypes } from '../contracts/errors';

/** What the proxies need of a campaign: where each role's queue is and how long silence may last. */
export type ActivityPlacement = Pick<Recipe, 'queues' | 'timeouts'>;

export function cpuActivities({ queues, timeouts }: ActivityPlacement): CpuActivityFns {
  return proxyActivities<CpuActivityFns>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '2h',
    heartbeatTimeout: `${timeouts.heartbeat_s ?? 120}s`,
    retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes },
  });
}

/** One proxy per Python activity, each on the queue of its role (quantize, infer, train, eval). */
export function gpuActivities({ queues, timeouts }: ActivityPlacement): GpuActivityFns {
  const proxy = (name: GpuActivityName) =>
    proxyActivities<GpuActivityFns>(gpuActivityOptions(name, queues[GpuActivityTable[name].role], timeouts.heartbeat_s))[name];
  // One proxy per name: each needs its own options (queue, timeouts), so one proxyActivities call cannot serve all.
  return Object.fromEntries(gpuActivityNames.map((name) => [name, proxy(name)])) as unknown as GpuActivityFns;
}
