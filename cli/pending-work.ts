// What a running campaign's stages are doing right now, read from Temporal rather than guessed:
// each running stage workflow, and its translation fan-outs, described for their pending
// activities, whose heartbeat details are the Progress every long activity reports
// (contracts/progress.ts). `hala watch` draws its bars from this; `hala status` and `watch` find
// work that no worker picks up in it (no-worker.ts).
import type { Client } from '@temporalio/client';
import type { LoadedDataConverter, Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import type { CampaignProgress } from '../contracts/campaign';
import { Progress } from '../contracts/progress';
import { fanOutWorkflowId } from '../workflows/fan-out-ids';

/** One pending activity of a stage (or of its fan-out), as DescribeWorkflowExecution reports it. */
export interface PendingWork {
  workflow_id: string;
  activity_id: string;
  activity: string;
  /** `scheduled`: waiting for a worker to pick it up (or for its next retry); `started`: running. */
  state: 'scheduled' | 'started' | 'cancel_requested';
  /** The task queue it is scheduled on (known from Temporal server 1.27 on). */
  queue?: string;
  scheduled_at?: Date;
  attempt: number;
  /** The last heartbeat, when it is a Progress; anything else an activity heartbeats is ignored. */
  progress?: Progress;
}

export interface StageWork {
  stage: string;
  workflow_id: string;
  pending: PendingWork[];
}

const { PendingActivityState } = temporal.api.enums.v1;
const stateNames: Partial<Record<number, PendingWork['state']>> = {
  [PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED]: 'scheduled',
  [PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]: 'started',
  [PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED]: 'cancel_requested',
};

/**
 * The Progress in a pending activity's heartbeat details, decoded as the workers encoded it: through
 * the client's codec (encrypted when HALA_CODEC_KEY is set). None when there is no heartbeat yet,
 * it is not a Progress, or this client lacks the key.
 */
export async function heartbeatProgress(converter: LoadedDataConverter, payloads: Payload[] | null | undefined): Promise<Progress | undefined> {
  if (!payloads?.length) return undefined;
  const details = await decodeFromPayloadsAtIndex<unknown>(converter, 0, payloads).catch(() => undefined);
  const parsed = Progress.safeParse(details);
  return parsed.success ? parsed.data : undefined;
}

const toDate = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t?.seconds == null ? undefined : new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));

/** The pending activities of every running stage, its fan-outs' included. */
export async function pendingWork(client: Client, progress: CampaignProgress): Promise<StageWork[]> {
  const running = progress.stages.filter((s) => s.status === 'running');
  return Promise.all(running.map(async (s) => ({ stage: s.stage, workflow_id: s.workflow_id, pending: await stagePending(client, s.workflow_id) })));
}

async function stagePending(client: Client, workflowId: string): Promise<PendingWork[]> {
  const described = await describe(client, workflowId);
  if (!described) return [];
  // A stage's translation runs in child workflows of its own (one per instruction set, maybe).
  const prefix = fanOutWorkflowId(workflowId);
  const fanOuts = (described.pendingChildren ?? []).map((c) => c.workflowId ?? '').filter((id) => id.startsWith(prefix));
  const children = await Promise.all(fanOuts.map(async (id) => activitiesOf(client, id, await describe(client, id))));
  return [...(await activitiesOf(client, workflowId, described)), ...children.flat()];
}

type Described = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;

/** The raw description; a workflow that closed (or vanished) between the query and now has none. */
async function describe(client: Client, workflowId: string): Promise<Described | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return d.status.name === 'RUNNING' ? d.raw : undefined;
  } catch {
    return undefined;
  }
}

async function activitiesOf(client: Client, workflowId: string, described: Described | undefined): Promise<PendingWork[]> {
  const converter = client.workflow.options.loadedDataConverter;
  return Promise.all(
    (described?.pendingActivities ?? []).map(async (a) => {
      const progress = await heartbeatProgress(converter, a.heartbeatDetails?.payloads);
      const scheduled = toDate(a.scheduledTime);
      const queue = a.activityOptions?.taskQueue?.name ?? undefined;
      return {
        workflow_id: workflowId,
        activity_id: a.activityId ?? '?',
        activity: a.activityType?.name ?? '?',
        state: stateNames[a.state ?? 0] ?? 'scheduled',
        attempt: a.attempt ?? 1,
        ...(queue ? { queue } : {}),
        ...(scheduled ? { scheduled_at: scheduled } : {}),
        ...(progress ? { progress } : {}),
      };
    }),
  );
}
