// The GPU activities as a stage's work calls them: each call named for the UI (`train_sft for
// sft-hala-350m`), shown in the stage's current details while it runs, and its queue checked for
// workers while no progress has come.
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import type { GpuActivityFns } from '../contracts/gpu-activity-fns';
import { GpuActivityTable, gpuActivityNames, type GpuActivityName } from '../contracts/gpu-activities';
import { gpuActivity, gpuQueueOf, type ActivityPlacement } from './activity-proxies';
import { watchQueue } from './queue-watch';
import type { StageStatus } from './stage-status';

export function watchedGpu(placement: ActivityPlacement, cpu: CpuActivityFns, status: StageStatus, stage: string): GpuActivityFns {
  const every_s = placement.timeouts.no_worker_s;
  const watched = (name: GpuActivityName) => async (input: object) => {
    const queue = gpuQueueOf(placement, name);
    const call = status.callStarted(name, queue);
    let over = false;
    const watch = watchQueue({
      cpu,
      queue,
      role: GpuActivityTable[name].role,
      every_s,
      settled: () => over || call.progress !== undefined,
      checked: (unserved) => status.queueChecked(call, unserved),
      // Cancelled with the stage: the call itself reports that; the watch must not fail the task unhandled.
    }).catch(() => undefined);
    try {
      return await (gpuActivity(placement, name, `${name} for ${stage}`) as (i: object) => Promise<unknown>)(input);
    } finally {
      over = true;
      status.callEnded(call);
      await watch;
    }
  };
  return Object.fromEntries(gpuActivityNames.map((name) => [name, watched(name)])) as unknown as GpuActivityFns;
}
