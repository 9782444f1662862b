// "No worker" instead of silence: while scheduled GPU work shows no sign of a worker, check every
// `every_s` (recipe timeouts.no_worker_s) whether its queue has any poller at all.
import { condition } from '@temporalio/workflow';
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';

export interface QueueWatch {
  cpu: CpuActivityFns;
  queue: string;
  role: string;
  every_s: number;
  /** True once a worker has shown up (progress, a completion) or the work is over: the watch ends. */
  settled(): boolean;
  /** The result of each check: nobody polls the queue (true), or somebody does. */
  checked(unserved: boolean): void;
}

/** At most one DescribeTaskQueue per `every_s`, and none at all when the work starts or ends sooner. */
export async function watchQueue(w: QueueWatch): Promise<void> {
  while (!(await condition(w.settled, w.every_s * 1000))) {
    // A failed check says nothing about the queue: the next one may.
    const answer = await w.cpu.queuePollers({ queue: w.queue, role: w.role }).catch(() => undefined);
    if (w.settled()) return;
    if (answer) w.checked(answer.pollers === 0);
  }
}
