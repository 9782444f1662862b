// Approval gates as `hala status` and `hala approve` show them: where each gate stands, and for one
// that waits, the command that approves it, the corpus funnel and the sample rows its approver judges.
import type { CampaignProgress } from '../contracts/campaign';
import type { GatePreview } from '../contracts/gates';

const LINE_CHARS = 160;

const oneLine = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > LINE_CHARS ? `${flat.slice(0, LINE_CHARS - 1)}…` : flat;
};

/** A conversation as `user: … | assistant: …`; any other row as its columns. */
function rowText(row: Record<string, unknown>): string {
  const { messages, id, ...rest } = row;
  const lead = id === undefined ? '' : `${String(id)}  `;
  if (Array.isArray(messages)) {
    return lead + oneLine(messages.map((m: { role?: unknown; content?: unknown }) => `${String(m.role)}: ${String(m.content)}`).join(' | '));
  }
  return lead + oneLine(Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' '));
}

export function renderPreview(preview: GatePreview): string {
  const out = preview.check ? [`  ${preview.check.message}`, '  funnel:'] : ['  funnel:'];
  if (preview.funnel.length === 0) out.push('    (no corpus stage has finished)');
  for (const step of preview.funnel) {
    out.push(`    ${step.stage}: ${Object.entries(step.metrics).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  for (const { dataset, rows } of preview.samples) {
    out.push(`  ${rows.length} sample row${rows.length === 1 ? '' : 's'} of ${dataset.uri} (sha256:${dataset.sha256.slice(0, 12)}${dataset.rows === undefined ? '' : `, ${dataset.rows} rows`}):`);
    for (const row of rows) out.push(`    ${rowText(row)}`);
  }
  return out.join('\n');
}

/** The gates section of `hala status`; empty when the recipe declares none. */
export function renderGates(progress: CampaignProgress): string {
  const out: string[] = [];
  for (const g of progress.gates ?? []) {
    if (g.state === 'approved' && g.approval) {
      out.push(`gate ${g.name} before ${g.before}: approved by ${g.approval.by} at ${g.approval.at}${g.approval.note ? ` (${g.approval.note})` : ''}`);
    } else if (g.state === 'waiting' && g.preview) {
      out.push(`waiting at gate ${g.name} before ${g.before}: hala approve ${progress.campaign_id} ${g.name}`, renderPreview(g.preview));
    } else {
      out.push(`gate ${g.name} before ${g.before}: not reached yet`);
    }
  }
  return out.join('\n');
}
