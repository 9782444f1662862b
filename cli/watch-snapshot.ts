// One look at a campaign for `hala watch`: each stage's status, and for a running stage what its
// pending activities' heartbeats say (phase, done of total, live metrics), with rate and ETA from
// earlier looks, or that no worker serves its queue. The terminal, plain and JSON outputs all
// render this one shape (watch-render.ts), and `--json` prints it as is.
import { checkLine } from './check-summary';
import type { CampaignProgress, StageReport, StageStatus } from '../contracts/campaign';
import type { NoWorker } from './no-worker';
import type { StageWork } from './pending-work';
import type { ProgressRate } from './progress-rate';
import { headlineMetrics } from './summary';
import type { BudgetReport } from '../contracts/budget';
import { budgetFigures, raiseCommand } from './budget-summary';

export interface StageLine {
  stage: string;
  kind: string;
  status: StageStatus;
  forced: boolean;
  /** Cached from another campaign's computation: its id. */
  computed_by?: string;
  error?: string;
  started_at?: string;
  ended_at?: string;
  /** Finished: the figures it is judged by. */
  headline?: Record<string, number>;
  /** Running: its activities in flight and what their heartbeats say, summed over them. */
  live?: {
    activities: number;
    /** Of those, how many wait for a worker (scheduled, not started). */
    waiting: number;
    phase?: string;
    done?: number;
    total?: number;
    /** Units per second, seconds to go. */
    rate?: number;
    eta_s?: number;
    metrics: Record<string, number>;
    checkpoint_uri?: string;
  };
  no_worker?: Omit<NoWorker, 'stage'>;
}

/** A gate the campaign waits at, with the command that lets it go on. */
export interface GateLine {
  name: string;
  before: string;
  approve: string;
}

/** The recipe's budget: spend against its caps, and while stages are held, the command that raises it. */
export interface BudgetWatch {
  state: BudgetReport['state'];
  figures: string;
  held_stages: string[];
  raise?: string;
}

export interface WatchSnapshot {
  at: string;
  campaign_id: string;
  state: CampaignProgress['state'];
  stages: StageLine[];
  /** Gates waiting for an approval: the campaign holds there until `hala approve`. */
  waiting_at?: GateLine[];
  budget?: BudgetWatch;
  /** The recipe's checks judged so far, one line each (cli/check-summary.ts): a choice, a miss, a pass. */
  checks?: string[];
}

export function snapshot(progress: CampaignProgress, work: StageWork[], noWorker: NoWorker[], rates: ProgressRate, now = Date.now()): WatchSnapshot {
  const workOf = new Map(work.map((w) => [w.stage, w]));
  const unserved = new Map(noWorker.map(({ stage, ...rest }) => [stage, rest]));
  rates.keep(new Set(work.map((w) => w.stage)));
  return {
    at: new Date(now).toISOString(),
    campaign_id: progress.campaign_id,
    state: progress.state,
    ...waitingAt(progress),
    ...budgetOf(progress),
    ...(progress.checks?.length && { checks: progress.checks.map((c) => checkLine(c, progress.campaign_id)) }),
    stages: progress.stages.map((s) => {
      const line: StageLine = { stage: s.stage, kind: s.kind, status: s.status, forced: s.forced, ...times(s) };
      if (s.error) line.error = s.error;
      if (s.computed_by) line.computed_by = s.computed_by;
      if (s.status === 'completed' || s.status === 'cached') line.headline = headlineMetrics(s);
      const w = workOf.get(s.stage);
      if (s.status === 'running' && w) line.live = live(w, rates, now);
      const nw = unserved.get(s.stage);
      if (nw) line.no_worker = nw;
      return line;
    }),
  };
}

function waitingAt(progress: CampaignProgress): Pick<WatchSnapshot, 'waiting_at'> {
  const waiting = (progress.gates ?? []).filter((g) => g.state === 'waiting');
  if (waiting.length === 0) return {};
  return { waiting_at: waiting.map((g) => ({ name: g.name, before: g.before, approve: `npx hala approve ${progress.campaign_id} ${g.name}` })) };
}

function budgetOf({ budget: b, campaign_id }: CampaignProgress): Pick<WatchSnapshot, 'budget'> {
  if (!b) return {};
  return { budget: { state: b.state, figures: budgetFigures(b), held_stages: b.held_stages, ...(b.state === 'held' && { raise: `npx ${raiseCommand(campaign_id)}` }) } };
}

const times = (s: StageReport) => ({ ...(s.started_at ? { started_at: s.started_at } : {}), ...(s.ended_at ? { ended_at: s.ended_at } : {}) });

function live(w: StageWork, rates: ProgressRate, now: number): NonNullable<StageLine['live']> {
  const reporting = w.pending.filter((p) => p.progress !== undefined);
  const out: NonNullable<StageLine['live']> = {
    activities: w.pending.length,
    waiting: w.pending.filter((p) => p.state === 'scheduled').length,
    metrics: Object.assign({}, ...reporting.map((p) => p.progress!.metrics)) as Record<string, number>,
  };
  if (reporting.length === 0) return out;
  // Several in flight (a fan-out's window of shards): their units add up.
  const done = reporting.reduce((n, p) => n + p.progress!.done, 0);
  const total = reporting.reduce((n, p) => n + p.progress!.total, 0);
  const checkpoint = reporting.map((p) => p.progress!.checkpoint_uri).find((c) => c);
  return { ...out, phase: reporting[0]!.progress!.phase, done, total, ...rates.sample(w.stage, done, total, now), ...(checkpoint ? { checkpoint_uri: checkpoint } : {}) };
}
