// `hala lineage`: walk lineage records from artifacts back to the raw sources, and render the
// graph as JSON, Mermaid or Graphviz dot.
import type { CheckReport } from '../contracts/checks';
import type { Approval } from '../contracts/gates';
import { capsText } from './budget-summary';
import type { ActivitySummary, LineageRecord } from '../contracts/lineage';

export interface LineageNode {
  id: string;
  kind: 'artifact' | 'source' | 'unknown';
  uri?: string;
  sha256?: string;
  /** Hub commit a source's digest stands for (hf:// read online). */
  revision?: string;
  stage?: string;
  campaign_id?: string;
  workflow_id?: string;
  /** The producing stage's GPU activities, and their GPU-seconds summed (artifacts only). */
  activities?: ActivitySummary[];
  gpu_seconds?: number;
  /** The producing stage's figures, among them what it had to adapt (oom_halvings). */
  metrics?: Record<string, number>;
  /** The approval gates that released the producing stage (artifacts only). */
  approvals?: Approval[];
  /** The check decisions that chose what the producing stage read (the BF16 teacher over the FP8 one). */
  decisions?: CheckReport[];
}
export interface LineageGraph {
  nodes: LineageNode[];
  /** parent -> child */
  edges: { from: string; to: string }[];
}

/** Breadth-first from `start` digests; `load` returns the record of a digest or undefined. */
export async function walkLineage(
  start: string[],
  load: (sha256: string) => Promise<LineageRecord | undefined>,
): Promise<LineageGraph> {
  const nodes = new Map<string, LineageNode>();
  const edges = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const sha = queue.shift()!;
    if (nodes.has(sha)) continue;
    const record = await load(sha);
    if (!record) {
      nodes.set(sha, { id: sha, kind: 'unknown', sha256: sha });
      continue;
    }
    nodes.set(sha, {
      id: sha,
      kind: 'artifact',
      uri: record.artifact.uri,
      sha256: sha,
      stage: record.stage,
      campaign_id: record.producer.campaign_id,
      workflow_id: record.producer.workflow_id,
      ...(record.producer.activities ? { activities: record.producer.activities } : {}),
      ...(record.gpu_seconds !== undefined ? { gpu_seconds: record.gpu_seconds } : {}),
      metrics: record.metrics,
      ...(record.approvals?.length ? { approvals: record.approvals } : {}),
      ...(record.decisions?.length ? { decisions: record.decisions } : {}),
    });
    for (const parent of record.parents) {
      if (parent.kind === 'artifact') {
        edges.add(`${parent.sha256}\n${sha}`);
        queue.push(parent.sha256);
      } else {
        const id = `source:${parent.uri}`;
        // Campaigns may have read different contents of one URI; the first digest met is shown.
        if (!nodes.has(id)) nodes.set(id, { id, kind: 'source', uri: parent.uri, sha256: parent.sha256, revision: parent.revision });
        edges.add(`${id}\n${sha}`);
      }
    }
  }
  return {
    nodes: [...nodes.values()],
    edges: [...edges].map((e) => {
      const [from, to] = e.split('\n');
      return { from: from!, to: to! };
    }),
  };
}

const short = (sha: string) => sha.slice(0, 12);

/** A source shows the short form of its digest (and of the hub commit it stands for), or says it has none. */
const label = (n: LineageNode) =>
  n.kind === 'source'
    ? `${n.uri} ${n.sha256 ? `sha256:${short(n.sha256)}` : 'sha256 unknown'}${n.revision ? ` @${n.revision.slice(0, 7)}` : ''}`
    : n.kind === 'unknown'
      ? `unknown ${short(n.id)}`
      : `${n.stage}: ${n.uri!.split('/').slice(-2).join('/')} ${short(n.sha256!)}`;

const round = (x: number) => (Math.round(x * 10) / 10).toString();

/**
 * `compress_teacher ×1, translate_shard ×3 (4 attempts, 1 retried); 12.5 GPU-s`: who made an artifact
 * and at what cost, for the text view. Undefined when the record predates producer activities.
 */
export function producerLine(n: LineageNode): string | undefined {
  if (!n.activities) return undefined;
  const each = n.activities.map(
    (a) => `${a.activity} ×${a.count}${a.attempts > a.count ? ` (${a.attempts} attempts, ${a.retries} retried)` : ''}`,
  );
  const halvings = n.metrics?.oom_halvings ?? 0;
  const adapted = halvings > 0 ? `; out of memory: batch halved ${halvings}×` : '';
  return `${each.length > 0 ? each.join(', ') : 'no GPU activities'}${adapted}; ${round(n.gpu_seconds ?? 0)} GPU-s`;
}

/** `approved corpus-review by alice at 2026-…, preview sha256:1a2b3c4d5e6f`: who let the producing stage run. */
export function approvalLine(n: LineageNode): string | undefined {
  const approved = (n.approvals ?? []).map(
    (a) => `approved ${a.gate} by ${a.by} at ${a.at}${a.note ? ` (${a.note})` : ''}, ${a.preview_sha256 ? `preview sha256:${short(a.preview_sha256)}` : `budget raised to ${capsText(a.budget ?? {})}`}`,
  );
  // And the check decisions that chose what it read: `chose bf16 (check fp8-parity: … chrf_drop = 10, outside ≤ 2)`.
  const chosen = (n.decisions ?? []).map((d) => `chose ${d.chosen?.candidate ?? 'nothing'} (${d.message})`);
  const all = [...approved, ...chosen];
  return all.length > 0 ? all.join('; ') : undefined;
}

/** The node's label with its approvals on a line of their own (`br` is the format's line break). */
const labelWithApprovals = (n: LineageNode, br: string) => {
  const approved = approvalLine(n);
  return approved ? `${label(n)}${br}${approved}` : label(n);
};

export function toMermaid(graph: LineageGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ['graph LR'];
  for (const n of graph.nodes) {
    const text = labelWithApprovals(n, '<br/>').replace(/"/g, "'");
    lines.push(n.kind === 'source' ? `  ${ids.get(n.id)}[("${text}")]` : `  ${ids.get(n.id)}["${text}"]`);
  }
  for (const e of graph.edges) lines.push(`  ${ids.get(e.from)} --> ${ids.get(e.to)}`);
  return lines.join('\n');
}

export function toDot(graph: LineageGraph): string {
  const lines = ['digraph lineage {', '  rankdir=LR;'];
  for (const n of graph.nodes) {
    lines.push(`  ${JSON.stringify(n.id)} [label=${JSON.stringify(labelWithApprovals(n, '\n'))}${n.kind === 'source' ? ', shape=cylinder' : ''}];`);
  }
  for (const e of graph.edges) lines.push(`  ${JSON.stringify(e.from)} -> ${JSON.stringify(e.to)};`);
  lines.push('}');
  return lines.join('\n');
}

export function toText(graph: LineageGraph): string {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const parents = (id: string) => graph.edges.filter((e) => e.to === id).map((e) => e.from);
  const children = new Set(graph.edges.map((e) => e.from));
  const roots = graph.nodes.filter((n) => !children.has(n.id));
  const out: string[] = [];
  // A node reached again (a base model under every student's reports) is named, not walked again.
  const shown = new Set<string>();
  const visit = (id: string, depth: number) => {
    const node = byId.get(id)!;
    if (shown.has(id)) {
      out.push(`${'  '.repeat(depth)}${label(node)}  (shown above)`);
      return;
    }
    shown.add(id);
    const producer = producerLine(node);
    const approved = approvalLine(node);
    out.push(`${'  '.repeat(depth)}${label(node)}${producer ? `  [${producer}]` : ''}${approved ? `  [${approved}]` : ''}`);
    for (const p of parents(id)) visit(p, depth + 1);
  };
  for (const r of roots) visit(r.id, 0);
  return out.join('\n');
}
