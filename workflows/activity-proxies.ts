// Workflow-side handles on every activity, bound to the campaign's queues and timeouts.
import type { ActivityOptions, Priority } from '@temporalio/common';
import { proxyActivities } from '@temporalio/workflow';
import type { Recipe } from '../contracts/recipe';
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import { gpuActivityOptions, type GpuActivityFns, type GpuActivityWire } from '../contracts/gpu-activity-fns';
import { GpuActivityTable, type GpuActivityName } from '../contracts/gpu-activities';
import { nonRetryableErrorTypes } from '../contracts/errors';

/**
 * What the proxies need of a campaign: where each role's queue is, how long silence may last, how
 * often to retry, and the priority its tasks carry on a shared queue. The priority is set on every
 * activity, not left to the server's inheritance from the workflow, so what a task carries is read
 * in its own ScheduleActivityTask command; absent (a history from before it), the server merges in
 * the calling workflow's.
 */
export type ActivityPlacement = Pick<Recipe, 'queues' | 'timeouts' | 'retries'> & { priority?: Priority };

const withPriority = (options: ActivityOptions, priority: Priority | undefined): ActivityOptions => (priority ? { ...options, priority } : options);

/** The CPU activities; `forStage` names each call for the UI (`openStage for sft-hala-350m`). */
export function cpuActivities({ queues, timeouts, priority }: ActivityPlacement, forStage?: string): CpuActivityFns {
  const options = withPriority(
    {
      taskQueue: queues.cpu,
      startToCloseTimeout: '2h',
      heartbeatTimeout: `${timeouts.heartbeat_s ?? 120}s`,
      retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes },
    },
    priority,
  );
  if (forStage === undefined) return proxyActivities<CpuActivityFns>(options);
  // A summary is a proxy option: one proxy per name called, made when first called.
  return new Proxy({} as CpuActivityFns, {
    get: (_, name) => (typeof name === 'string' ? proxyActivities<CpuActivityFns>({ ...options, summary: `${name} for ${forStage}` })[name as keyof CpuActivityFns] : undefined),
  });
}

/** The queue a GPU activity is scheduled on: the one of its role (quantize, infer, train, eval). */
export const gpuQueueOf = ({ queues }: ActivityPlacement, name: GpuActivityName): string => queues[GpuActivityTable[name].role];

/**
 * One Python activity, told how its runner is watched (stall timeout, how many runner failures end
 * it, how often it reports progress); `summary` is the line the UI shows for the call. The proxy is
 * made per call because a summary is an activity option, and options are fixed per proxy.
 */
export function gpuActivity<N extends GpuActivityName>(placement: ActivityPlacement, name: N, summary?: string): GpuActivityFns[N] {
  const { timeouts, retries } = placement;
  const options = withPriority(gpuActivityOptions(name, gpuQueueOf(placement, name), timeouts.heartbeat_s), placement.priority);
  const supervision = {
    stall_s: timeouts.stall_s ?? GpuActivityTable[name].stall_s,
    runner_failed_attempts: retries.runner_failed,
    progress_s: timeouts.progress_s,
  };
  return ((input: object) => {
    const call = proxyActivities<GpuActivityWire>(summary ? { ...options, summary } : options)[name];
    return (call as unknown as (i: object) => Promise<unknown>)({ ...input, supervision });
  }) as unknown as GpuActivityFns[N];
}
