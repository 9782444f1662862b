// Steering a running campaign from the terminal, and seeing what runs where: `hala pause | resume |
// cancel | ls | workers`. Each verb is one Temporal call (a signal, a cancel request, a visibility
// query, a task-queue description) wrapped so that it says what happened in a sentence.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { CampaignProgress } from '../contracts/campaign';
import type { QueueWorkers } from '../platform/task-queue-pollers';
import { pauseSignal, progressQuery, resumeSignal } from '../workflows/definitions';
import { buildsOf } from './builds';

/** The campaign is not there, or not running: a steering verb has nothing to steer. */
export class NotSteerable extends Error {}

async function runningCampaign(client: Client, id: string) {
  const handle = client.workflow.getHandle(id);
  const described = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) throw new NotSteerable(`no campaign ${id} in this namespace (hala ls lists them)`);
    throw err;
  });
  if (described.type !== 'campaign') throw new NotSteerable(`${id} is a ${described.type} workflow, not a campaign`);
  if (described.status.name !== 'RUNNING') throw new NotSteerable(`campaign ${id} is ${described.status.name.toLowerCase()}: only a running campaign can be steered`);
  return handle;
}

/** Pause: running stages finish their current work, no new stage or shard starts. */
export async function pauseCampaign(client: Client, id: string): Promise<string> {
  await (await runningCampaign(client, id)).signal(pauseSignal);
  return `paused ${id}: stages already running finish their current shards; nothing new starts until hala resume ${id}`;
}

export async function resumeCampaign(client: Client, id: string): Promise<string> {
  await (await runningCampaign(client, id)).signal(resumeSignal);
  return `resumed ${id}`;
}

/**
 * Cancel: the campaign and its stage workflows are cancelled, their GPU runners stopped. Finished
 * stages stay in the cache, so running the recipe again picks up from them.
 */
export async function cancelCampaign(client: Client, id: string): Promise<string> {
  await (await runningCampaign(client, id)).cancel();
  return `cancel requested for ${id}: running stages stop (their runners are killed); finished stages stay cached, so hala run on the same recipe continues from them`;
}

export interface CampaignRow {
  id: string;
  status: string;
  recipe: string;
  started: string;
  /** Stages done / planned, for a campaign that still answers its progress query. */
  stages?: string;
}

/** Campaigns of this namespace, newest first, through the visibility store. */
export async function listCampaigns(client: Client, limit = 20): Promise<CampaignRow[]> {
  const rows: CampaignRow[] = [];
  for await (const wf of client.workflow.list({ query: 'WorkflowType = "campaign"' })) {
    rows.push({ id: wf.workflowId, status: wf.status.name.toLowerCase(), recipe: String(wf.memo?.recipe ?? '?'), started: wf.startTime.toISOString() });
    if (rows.length >= limit) break;
  }
  rows.sort((a, b) => b.started.localeCompare(a.started));
  // Running ones say how far they are; a closed one's summary is `hala status`.
  await Promise.all(
    rows.filter((r) => r.status === 'running').map(async (r) => {
      const progress: CampaignProgress | undefined = await client.workflow.getHandle(r.id).query(progressQuery).catch(() => undefined);
      if (progress) {
        const done = progress.stages.filter((s) => s.status === 'completed' || s.status === 'cached').length;
        r.stages = `${done}/${progress.stages.length}${progress.state === 'paused' ? ' (paused)' : ''}`;
      }
    }),
  );
  return rows;
}

export function renderCampaigns(rows: CampaignRow[]): string {
  if (rows.length === 0) return 'no campaigns in this namespace';
  const lines = rows.map((r) => [r.id, r.status, r.stages ?? '', r.recipe, r.started]);
  return table([['campaign', 'status', 'stages', 'recipe', 'started'], ...lines]);
}

export function renderWorkers(rows: QueueWorkers[]): string {
  const lines = rows.map((r) => [r.queue, r.role, r.pollers.length === 0 ? 'no worker' : `${r.pollers.length}`, buildsOf(r), r.pollers.map((p) => p.identity).join(', ')]);
  const idle = rows.filter((r) => r.pollers.length === 0).map((r) => r.queue);
  const note = idle.length > 0 ? `\nno worker polls ${idle.join(', ')}: work routed there waits until one starts (hala up, or the pool's Deployment)` : '';
  return table([['queue', 'role', 'workers', 'builds', 'identities'], ...lines]) + note;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}
