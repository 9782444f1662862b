// Whether anyone serves a queue: what a stage workflow asks when its GPU activity has been silent
// for a while (workflows/queue-watch.ts), so the UI can say "no worker on <queue>" instead of waiting.
import { Context } from '@temporalio/activity';
import { queueWorkers } from '../workers/task-queue-pollers';

export interface QueuePollersInput {
  queue: string;
  /** The GPU role the queue serves (its pollers poll for activities); `cpu` for the workflow queue. */
  role: string;
}

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
