// `hala approve <campaign-id> <gate> [--by NAME] [--note TEXT]`: the `approve` update of a campaign
// waiting at an approval gate. The workflow's validator decides; a refusal comes back as its sentence.
import os from 'node:os';
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApproveResult } from '../contracts/gates';
import { approveUpdate } from '../workflows/definitions';
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
  const handle = client.workflow.getHandle(id);
  try {
    return await handle.executeUpdate(approveUpdate, { args: [{ gate, by: opts.by, ...(opts.note ? { note: opts.note } : {}) }] });
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
