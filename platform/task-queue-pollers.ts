// platform/: plumbing that cli, workers and activities share; it imports only contracts/ and security/.
// Who polls each task queue, through DescribeTaskQueue: for `hala workers`, the "no worker" line of
// `hala status` and `hala watch`, and the stage workflows' own check (activities/queue-pollers.ts).
// Here, not under cli/ or workers/, because the CPU worker's activities (and its image, which has no cli/) run it too.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface QueueWorkers {
  queue: string;
  role: string;
  /** Workers polling it: their identities, when each last polled, and the build it is (`<deployment>:<build id>`; absent: unversioned). */
  pollers: { identity: string; lastAccess?: string; build?: string }[];
}

/** Who polls each queue now (Temporal keeps pollers seen in the last few minutes). */
export async function queueWorkers(client: Client, namespace: string, queues: Record<string, string>): Promise<QueueWorkers[]> {
  return Promise.all(
    Object.entries(queues).map(async ([role, queue]) => {
      const described = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        // The CPU worker polls for workflow tasks; GPU workers poll for activities only.
        taskQueueType: role === 'cpu' ? temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      const pollers = (described.pollers ?? []).map((p) => ({
        identity: p.identity ?? '?',
        ...(p.lastAccessTime?.seconds != null ? { lastAccess: new Date(Number(p.lastAccessTime.seconds) * 1000).toISOString() } : {}),
        ...(p.deploymentOptions?.buildId ? { build: `${p.deploymentOptions.deploymentName}:${p.deploymentOptions.buildId}` } : {}),
      }));
      return { queue, role, pollers };
    }),
  );
}
