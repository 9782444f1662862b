// What the Temporal UI shows of a stage, as markdown: its static summary and details (set when the
// campaign starts it) and its current details (what it does now, then what it produced and what
// from). Pure formatting of plain data, so every line an operator reads is written here and nowhere else.
import type { ActivityProgress } from '../contracts/activity-progress';
import type { ArtifactRef } from '../contracts/artifact';
import type { SourceDigest } from '../contracts/lineage';
import { stageWorkflowId } from './fan-out-ids';

/** A stage upstream of this one: the artifact it handed over, and its workflow (for a link). */
export interface ParentStage {
  stage: string;
  workflow_id: string;
  uri: string;
  sha256: string;
}

/** What a declaration says of a stage before it runs (StageDeclaration.describe). */
export interface StageDescription {
  /** One line: what the stage makes of what (`sft hala-350m — lfm2-350m on the translated instructions, lr 2e-3, 1 epoch`). */
  summary: string;
  /** The knobs that matter to an operator, as label → value. */
  facts: [string, string | number | boolean][];
}

/** A GPU call the stage is waiting on. */
export interface CallView {
  activity: string;
  queue: string;
  scheduled_at: number;
  progress?: ActivityProgress;
  /** Set when the queue had no poller at the last check; cleared once the activity reports. */
  no_worker_since?: number;
}

/** A translation fan-out the stage runs as a child workflow. */
export interface FanOutView {
  label: string;
  workflow_id: string;
}

export interface FinishedView {
  cached: boolean;
  /** Cached from another campaign's computation: its id. */
  computed_by?: string;
  stage_key: string;
  artifacts: ArtifactRef[];
  metrics: Record<string, number>;
  /** Upstream digests, raw sources first checked by openStage then those the work reported. */
  inputs: string[];
  sources: SourceDigest[];
}

export interface StageView {
  namespace: string;
  phase: string;
  started_at: number;
  now: number;
  parents: ParentStage[];
  calls: CallView[];
  fan_outs: FanOutView[];
  finished?: FinishedView;
}

/**
 * Workflow time (the sandbox's, replayed identically), for the durations the details show; never
 * for deciding anything: timers (condition) do that.
 */
export const clock = () => new Date().getTime();

/** The Temporal UI's page of a workflow, relative to the UI's root (`<campaign>/<stage>` has its slash escaped). */
export const workflowLink = (namespace: string, workflowId: string) => `/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;

/** The campaign's own page: what recipe, for which students, and a link to every stage it plans. */
export function campaignStory(v: { recipe: string; description: string; recipe_sha256: string; students: string[]; stages: string[]; campaign_id: string; namespace: string }) {
  const summary = `campaign ${v.recipe} — ${v.stages.length} stages for ${v.students.length === 1 ? 'student' : 'students'} ${v.students.join(', ')}`;
  const stages = v.stages.map((stage) => `- [${stage}](${workflowLink(v.namespace, stageWorkflowId(v.campaign_id, stage))})`);
  const details = [`**${summary}**`, '', ...(v.description ? [v.description, ''] : []), `recipe sha256 \`${v.recipe_sha256}\``, '', '**Stages**', '', ...stages].join('\n');
  return { summary, details };
}

/** The static details of a stage: its summary, its knobs and the stages it reads from (with links). */
export function staticDetails(description: StageDescription, parents: ParentStage[], namespace: string): string {
  const facts = description.facts.map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const from = parents.map((p) => `- ${parentLine(p, namespace)}`);
  return [`**${description.summary}**`, '', ...facts, ...(from.length ? ['', '**Reads from**', '', ...from] : [])].join('\n');
}

/** The current details: what the stage does now, or (once done) what it produced and what from. */
export function currentDetails(view: StageView): string {
  if (view.finished) return finishedDetails(view, view.finished);
  // Times of day, not ages: the details are a snapshot, read long after they were written.
  const lines = [`**Now:** ${view.phase} (stage started ${timeOfDay(view.started_at)})`, ''];
  for (const call of view.calls) lines.push(...callLines(call, view.now));
  for (const f of view.fan_outs) lines.push(`- translation fan-out${f.label ? ` ${f.label}` : ''}: [${f.workflow_id}](${workflowLink(view.namespace, f.workflow_id)})`);
  if (view.parents.length) lines.push('', '**Reads from**', '', ...view.parents.map((p) => `- ${parentLine(p, view.namespace)}`));
  return lines.join('\n');
}

function callLines(call: CallView, now: number): string[] {
  const lines: string[] = [];
  if (call.no_worker_since !== undefined) lines.push(`- **${noWorkerLine(call.queue, now - call.no_worker_since)}**: ${call.activity} waits until one polls it (hala workers)`);
  const p = call.progress;
  if (!p) {
    lines.push(`- ${call.activity} on ${call.queue}: scheduled ${timeOfDay(call.scheduled_at)}, no progress yet`);
    return lines;
  }
  const parts = [`${p.phase}: ${p.done}/${p.total}${p.total > 0 ? ` (${Math.floor((100 * p.done) / p.total)}%)` : ''}`];
  if (p.metrics.loss !== undefined) parts.push(`loss ${figure(p.metrics.loss)}`);
  if (p.rate !== undefined) parts.push(`${figure(p.rate)}/s`);
  if (p.eta_s !== undefined) parts.push(`ETA ${duration(p.eta_s * 1000)}`);
  if (p.checkpoint_uri) parts.push(`last checkpoint \`${p.checkpoint_uri}\``);
  for (const [k, v] of Object.entries(p.metrics)) if (k !== 'loss') parts.push(`${k} ${figure(v)}`);
  lines.push(`- ${call.activity} (attempt ${p.attempt}, ${duration(p.elapsed_s * 1000)} in) ${parts.join(' · ')}`);
  return lines;
}

/** The sentence status, watch and the UI share for a queue nobody serves. */
export const noWorkerLine = (queue: string, forMs: number) => `no worker on ${queue} for ${duration(forMs)}`;

function finishedDetails(view: StageView, f: FinishedView): string {
  const cached = `from the stage cache (nothing recomputed${f.computed_by ? `; computed by campaign ${f.computed_by}` : ''})`;
  const lines = [`**Done** ${f.cached ? cached : `in ${duration(view.now - view.started_at)}`} · stage key \`${f.stage_key}\``, ''];
  // The UI's markdown renderer starts a list only after a blank line.
  lines.push('**Produced**', '');
  if (f.artifacts.length === 0) lines.push('- no artifact (figures only)');
  for (const a of f.artifacts) lines.push(`- \`${a.uri}\` (${a.kind}) sha256 \`${a.sha256}\``);
  const metrics = Object.entries(f.metrics);
  if (metrics.length) lines.push('', `**Metrics:** ${metrics.map(([k, v]) => `${k} ${figure(v)}`).join(' · ')}`);
  lines.push('', '**Made from**', '');
  const byParent = new Map(view.parents.map((p) => [p.sha256, p]));
  for (const sha of f.inputs) {
    const parent = byParent.get(sha);
    lines.push(parent ? `- ${parentLine(parent, view.namespace)}` : `- sha256 \`${sha}\``);
  }
  for (const s of f.sources) lines.push(`- \`${s.uri}\` (raw source${s.revision ? ` @ ${s.revision.slice(0, 12)}` : ''}) sha256 \`${s.sha256}\``);
  return lines.join('\n');
}

const parentLine = (p: ParentStage, namespace: string) => `\`${p.uri}\` sha256 \`${p.sha256}\` from [${p.stage}](${workflowLink(namespace, p.workflow_id)})`;

/** 06:11:02 UTC (the date is on the page already). */
export const timeOfDay = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

/** 45 s, 12 min, 3 h 20 min, 2 d 5 h: as precise as an operator needs. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Four significant digits, without trailing zeros: 0.8123, 1234, 3.2. */
export const figure = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4))));

/** A learning rate as a recipe author writes it: 2e-3. */
export const rate = (n: number) => n.toExponential().replace('e+', 'e');

/** The model a URI names, as people call it: hf://hala-tiny/lfm2-350m -> lfm2-350m. */
export const modelName = (uri: string) => uri.replace(/\/+$/, '').split('/').pop() ?? uri;

/** A fan-out's current details: shards and rows done of total, rate and ETA from its own completions. */
export function fanOutDetails(v: {
  shards_done: number;
  shard_count: number;
  rows_done: number;
  in_flight: number;
  run_started_at: number;
  done_this_run: number;
  now: number;
  paused: boolean;
  no_worker?: { queue: string; since: number };
}): string {
  const elapsed = (v.now - v.run_started_at) / 1000;
  const perS = elapsed > 0 && v.done_this_run > 0 ? v.done_this_run / elapsed : undefined;
  const left = v.shard_count - v.shards_done;
  const parts = [`${v.shards_done}/${v.shard_count} shards`, `${v.rows_done} rows translated`, `${v.in_flight} in flight`];
  if (perS !== undefined) parts.push(`${figure(perS * 60)} shards/min`, `ETA ${duration((left / perS) * 1000)}`);
  const lines = [`**${left === 0 ? 'Translated' : v.paused ? 'Paused (campaign paused)' : 'Translating'}:** ${parts.join(' · ')}`];
  if (v.no_worker) lines.push('', `- **${noWorkerLine(v.no_worker.queue, v.now - v.no_worker.since)}**: shards wait until one polls it (hala workers)`);
  return lines.join('\n');
}
