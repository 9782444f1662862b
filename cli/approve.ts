// `hala approve <campaign-id> <gate> [--by NAME] [--note TEXT]`: the `approve` update of a campaign
// waiting at an approval gate, or with gate `budget` and new caps, the `raise-budget` update. The workflow's validator decides; a refusal comes back as its sentence.
import os from 'node:os';
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApproveResult } from '../contracts/gates';
import type { RaiseBudgetInput } from '../contracts/budget';
import type { Approval } from '../contracts/gates';
import { approveUpdate, raiseBudgetUpdate } from '../workflows/definitions';
import { renderPreview } from './gate-summary';

/** The campaign refused the approval (its validator's message), or is not there to ask. */
export class ApprovalRefused extends Error {}

/** Who approves when --by is not given: the OS user running the command. */
export const defaultApprover = (): string => {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
};

export async function approveGate(client: Client, id: string, gate: string, opts: { by: string; note?: string }): Promise<ApproveResult> {
  return refusalsAsSentences(client, id, () => client.workflow.getHandle(id).executeUpdate(approveUpdate, { args: [{ gate, by: opts.by, ...(opts.note ? { note: opts.note } : {}) }] }));
}

/** `hala approve <campaign> budget --cost-usd N --gpu-hours N`: the `raise-budget` update; held stages start. */
export async function raiseBudget(client: Client, id: string, raise: RaiseBudgetInput): Promise<Approval> {
  return refusalsAsSentences(client, id, () => client.workflow.getHandle(id).executeUpdate(raiseBudgetUpdate, { args: [raise] }));
}

/** An update the campaign's validator refused, or one with no campaign to ask, becomes ApprovalRefused with its sentence. */
async function refusalsAsSentences<T>(client: Client, id: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new ApprovalRefused(err.cause?.message ?? err.message);
    if (err instanceof WorkflowNotFoundError) throw new ApprovalRefused(await whyNotRunning(client, id));
    throw err;
  }
}

/** An update finds no running execution: the campaign ended, or was never here. */
async function whyNotRunning(client: Client, id: string): Promise<string> {
  const described = await client.workflow.getHandle(id).describe().catch(() => undefined);
  return described
    ? `campaign ${id} is ${described.status.name.toLowerCase()}: only a running campaign waits at a gate`
    : `no campaign ${id} in this namespace (hala ls lists them)`;
}

/** What `hala approve` prints: who approved what, and the preview they approved. */
export function renderApproval(id: string, result: ApproveResult): string {
  const { approval } = result;
  const head = `approved gate ${approval.gate} of ${id} as ${approval.by} at ${approval.at}${approval.note ? ` (${approval.note})` : ''}: ${result.before} goes on`;
  return [head, `preview sha256:${approval.preview_sha256}`, renderPreview(result.preview)].join('\n');
}
