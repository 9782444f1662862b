// Whether anyone serves a queue: what a stage workflow asks when its GPU activity has been silent
// for a while (workflows/queue-watch.ts), so the UI can say "no worker on <queue>" instead of waiting.
import { Context } from '@temporalio/activity';
import type { QueuePollersInput } from '../contracts/cpu-activity-fns';
import { queueWorkers } from '../platform/task-queue-pollers';

export function createQueuePollerActivities() {
  return {
    /** How many workers polled the queue in the last few minutes (Temporal's DescribeTaskQueue), through the worker's own client. */
    async queuePollers({ queue, role }: QueuePollersInput): Promise<{ pollers: number }> {
      const { client } = Context.current();
      const [row] = await queueWorkers(client, client.options.namespace, { [role]: queue });
      return { pollers: row?.pollers.length ?? 0 };
    },
  };
}
