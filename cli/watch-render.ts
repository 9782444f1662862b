// How `hala watch` shows a snapshot (watch-snapshot.ts): on a terminal, a block of one line per
// stage redrawn in place, with a bar per running stage; elsewhere (a pipe, a log file), plain
// lines appended only when something changed, so a CI log stays short and free of escape codes.
import type { BudgetWatch, StageLine, WatchSnapshot } from './watch-snapshot';
import { noWorkerText } from './no-worker';

const ansi = { green: 32, yellow: 33, red: 31, dim: 2, bold: 1 } as const;
type Paint = (style: keyof typeof ansi, text: string) => string;
const painter = (colour: boolean): Paint => (style, text) => (colour ? `\x1b[${ansi[style]}m${text}\x1b[0m` : text);

export function clock(seconds: number): string {
  const s = Math.round(seconds);
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return hms[0] ? `${hms[0]}:${String(hms[1]).padStart(2, '0')}:${String(hms[2]).padStart(2, '0')}` : `${hms[1]}:${String(hms[2]).padStart(2, '0')}`;
}

const number = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 10 ? 1 : 3));
const metricsText = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k}=${number(v)}`).join(' ');
const elapsed = (snap: WatchSnapshot, t0: number) => clock((Date.parse(snap.at) - t0) / 1000);

/** `train_sft 6/10 (60%) 3.2/s ETA 0:02 loss=0.333`: what a running stage's heartbeats say. */
function liveText(line: StageLine, bar?: (fraction: number) => string): string {
  const l = line.live;
  if (!l) return 'running';
  if (l.done === undefined || l.total === undefined) {
    return l.waiting > 0 ? `running, ${l.waiting} of ${l.activities} activit${l.activities === 1 ? 'y' : 'ies'} waiting for a worker` : 'running';
  }
  const fraction = l.total > 0 ? l.done / l.total : 0;
  const parts = [
    l.phase ?? '',
    ...(bar ? [bar(fraction)] : []),
    `${l.done}/${l.total}`,
    `(${Math.floor(fraction * 100)}%)`,
    l.rate !== undefined ? `${l.rate >= 10 ? l.rate.toFixed(0) : l.rate.toFixed(1)}/s` : '',
    l.eta_s !== undefined ? `ETA ${clock(l.eta_s)}` : '',
    l.activities > 1 ? `${l.activities} in flight` : '',
    metricsText(l.metrics),
  ];
  return parts.filter(Boolean).join(' ');
}

function doneText(line: StageLine): string {
  const secs = line.started_at && line.ended_at ? (Date.parse(line.ended_at) - Date.parse(line.started_at)) / 1000 : undefined;
  const head = [line.status + (line.forced ? ' (forced)' : '') + (line.computed_by ? ` (computed by campaign ${line.computed_by})` : ''), secs !== undefined ? `${secs.toFixed(1)}s` : '', metricsText(line.headline ?? {})].filter(Boolean).join(' ');
  return line.error ? `${head}: ${line.error}` : head;
}

export interface FrameOptions {
  colour: boolean;
  /** Terminal columns: lines are cut to fit, so the redraw's line count stays exact. */
  width: number;
  /** When the watch began (ms), for the elapsed clock. */
  t0: number;
  /** Terminal rows: a block taller than the screen cannot be redrawn in place, so it is folded. */
  height?: number;
}

/** The terminal block: a header and one line per stage, running ones with a bar. */
export function terminalFrame(snap: WatchSnapshot, opts: FrameOptions): string[] {
  const paint = painter(opts.colour);
  const name = Math.max(...snap.stages.map((s) => s.stage.length));
  const bar = (f: number) => {
    const cells = 20;
    const full = Math.round(Math.min(1, f) * cells);
    return `[${'█'.repeat(full)}${'░'.repeat(cells - full)}]`;
  };
  const lines = [paint('bold', `campaign ${snap.campaign_id}  ${snap.state}  ${elapsed(snap, opts.t0)}`)];
  const gates = [
    ...(snap.waiting_at ?? []).map((g) => cut(`${paint('yellow', '‖')} ${paint('yellow', gateText(g))}`, opts.width)),
    ...(snap.checks ?? []).map((c) => cut(`${paint('yellow', '?')} ${c}`, opts.width)),
    ...(snap.budget ? [cut(snap.budget.state === 'under' ? paint('dim', `$ ${budgetText(snap.budget)}`) : `${paint('yellow', '$')} ${paint('yellow', budgetText(snap.budget))}`, opts.width)] : []),
  ];
  lines.push(...gates);
  for (const s of fold(snap.stages, (opts.height ?? Infinity) - 2 - gates.length, lines)) {
    const label = s.stage.padEnd(name);
    let text: string;
    if (s.no_worker) text = `${paint('yellow', '▸')} ${label}  ${paint('red', noWorkerText({ stage: s.stage, ...s.no_worker }))}`;
    else if (s.status === 'running') text = `${paint('yellow', '▸')} ${label}  ${liveText(s, bar)}`;
    else if (s.status === 'completed') text = `${paint('green', '✓')} ${label}  ${doneText(s)}`;
    else if (s.status === 'cached') text = `${paint('green', '=')} ${label}  ${paint('dim', doneText(s))}`;
    else if (s.status === 'failed') text = `${paint('red', '✗')} ${label}  ${paint('red', doneText(s))}`;
    else if (s.status === 'cancelled') text = `${paint('red', '⊘')} ${label}  ${paint('dim', 'cancelled')}`;
    else text = paint('dim', `· ${label}  pending`);
    lines.push(cut(text, opts.width));
  }
  return lines;
}

/** A waiting gate in one line: what it holds and the command that releases it (`hala status` shows its preview). */
const gateText = (g: NonNullable<WatchSnapshot['waiting_at']>[number]) => `waiting at gate ${g.name} before ${g.before}: ${g.approve}`;

/**
 * The stages to draw one line each when the screen has `room` lines for them: first the pending
 * ones, then the finished ones, go into one count line each (pushed to `lines`), running ones never.
 */
const stagesText = (n: number) => `${n} stage${n === 1 ? '' : 's'}`;

function fold(stages: StageLine[], room: number, lines: string[]): StageLine[] {
  if (stages.length <= room) return stages;
  const finished = (s: StageLine) => s.status === 'completed' || s.status === 'cached';
  const pending = stages.filter((s) => s.status === 'pending').length;
  if (stages.length - pending + 1 <= room) {
    lines.push(`· ${stagesText(pending)} pending`);
    return stages.filter((s) => s.status !== 'pending');
  }
  lines.push(`✓ ${stagesText(stages.filter(finished).length)} finished, ${pending} pending`);
  return stages.filter((s) => s.status !== 'pending' && !finished(s));
}

/** Cut to `width` visible columns, keeping escape sequences whole (and closing any colour left open). */
function cut(text: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; ) {
    // eslint-disable-next-line no-control-regex -- the colour sequences are exactly what is skipped here
    const esc = /^\x1b\[[0-9;]*m/.exec(text.slice(i));
    if (esc) {
      out += esc[0];
      i += esc[0].length;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    if (visible >= width - 1) return out + (out.includes('\x1b[') ? '\x1b[0m' : '');
    out += ch;
    visible += 1;
    i += ch.length;
  }
  return out;
}

/** `budget held: … — build-bilingual-corpus wait: npx hala approve …`. */
function budgetText(b: BudgetWatch): string {
  return `budget ${b.state}: ${b.figures}${b.raise ? ` — ${b.held_stages.join(', ') || 'new stages'} wait: ${b.raise}` : ''}`;
}

/**
 * Plain appended lines: one per stage state change (and when a stage starts waiting for a missing
 * worker), plus at most one progress line per running stage every `everyMs`, or sooner when it
 * crosses a quarter (25, 50, 75 %).
 */
export class PlainLog {
  private readonly status = new Map<string, string>();
  private readonly lastProgress = new Map<string, { t: number; quarter: number }>();
  /** Gates already announced as waiting. */
  private gatesSeen = new Set<string>();
  /** Check lines already announced (a check's line changes only when it is judged again). */
  private checksSeen = new Set<string>();
  /** The budget's state last announced: a line each time it changes (warning, held, raised). */
  private budgetState?: string;

  constructor(
    private readonly t0: number,
    private readonly everyMs = 30_000,
  ) {}

  lines(snap: WatchSnapshot): string[] {
    const now = Date.parse(snap.at);
    const at = `[${elapsed(snap, this.t0)}]`;
    const name = Math.max(...snap.stages.map((s) => s.stage.length));
    const out: string[] = [];
    const waiting = new Set((snap.waiting_at ?? []).map((g) => g.name));
    for (const g of snap.waiting_at ?? []) if (!this.gatesSeen.has(g.name)) out.push(`${at} ${gateText(g)}`);
    this.gatesSeen = waiting;
    for (const c of snap.checks ?? []) if (!this.checksSeen.has(c)) out.push(`${at} ${c}`);
    this.checksSeen = new Set(snap.checks);
    if (snap.budget && snap.budget.state !== this.budgetState) out.push(`${at} ${budgetText(snap.budget)}`);
    this.budgetState = snap.budget?.state;
    for (const s of snap.stages) {
      const label = `${at} ${s.stage.padEnd(name)} `;
      const state = s.no_worker ? `no-worker:${s.no_worker.queue}` : s.status;
      if (this.status.get(s.stage) !== state) {
        this.status.set(s.stage, state);
        if (s.no_worker) out.push(label + noWorkerText({ stage: s.stage, ...s.no_worker }));
        else if (s.status === 'running') out.push(label + 'running');
        else if (s.status !== 'pending') out.push(label + doneText(s));
        if (s.status !== 'running') this.lastProgress.delete(s.stage);
      }
      const l = s.live;
      if (s.status !== 'running' || s.no_worker || l?.done === undefined || !l.total) continue;
      const quarter = Math.min(3, Math.floor((l.done / l.total) * 4));
      const last = this.lastProgress.get(s.stage);
      // The first sample is only the baseline, unless it is already past a quarter.
      const due = last ? quarter > last.quarter || now - last.t >= this.everyMs : quarter > 0;
      if (!last || due) this.lastProgress.set(s.stage, { t: last && !due ? last.t : now, quarter });
      if (due) out.push(label + liveText(s));
    }
    return out;
  }
}
