// Usage: npx tsx bench/orchestration.ts [--quick] [--history <file.json | dir>]
// Orchestration overhead on the local stack: a dev server (the tests' binary), one worker, a workflow
// running N sequential no-op activities; from its history, schedule→start and completion→next-schedule
// per activity (median, p99). Then that overhead's share of a tiny campaign's wall time, from the
// campaign's own histories: --history, else the newest completed campaign on the dev server at
// 127.0.0.1:7233 (started over `npm start`'s .hala/temporal.db for the reading when none is up),
// else the recorded harness histories in test/histories. Prints figures; asserts nothing.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { dynamicConfigArgs, isServing, startDevServer, type RunningDevServer } from '../workers/dev-server';
import { defaultStateDir, localDevServerOptions } from '../workers/local-stack';
import { localDefaults } from '../platform/temporal-connection';
import { createLocalEnv } from '../test/support/temporal-env';
import type { noopChain } from './noop-chain-workflow';
import { activityCount, activityTimings, completionToNextMs, gapPhases, type GapPhases, readHistoryFile, scheduleToStartMs, wallMs } from './lib/history-stats';
import { printBenchLine, type BenchRow } from './lib/bench-line';
import { describeMachine } from './lib/machine';
import { installQuietRuntime } from './lib/quiet-runtime';
import { loadAverage } from './lib/load-average';
import { median, percentile } from './lib/percentiles';

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };
const ms = (x: number) => `${x.toFixed(1)} ms`;

interface ChainFigures {
  scheduleToStart: number[];
  completionToNext: number[];
  /** Per activity: its schedule→start plus the completion→next-schedule that follows it. */
  overhead: number[];
  phases: GapPhases[];
}

/**
 * Runs a warm-up chain, then the measured one of `n` activities, and reads the measured one's history;
 * on the dev server as `hala up` configures it, or with Temporal's own defaults.
 */
async function measureChain(n: number, temporalDefaults: boolean): Promise<ChainFigures> {
  const env = await createLocalEnv({ temporalDefaults });
  try {
    const taskQueue = 'bench-noop';
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'noop-chain-workflow.ts'), logger: quiet });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: { noop: async () => undefined } });
    const history = await worker.runUntil(async () => {
      // The first workflow task pays for the worker's cold start: not dispatch.
      await env.client.workflow.execute<typeof noopChain>('noopChain', { taskQueue, workflowId: 'bench-noop-warmup', args: [5] });
      const handle = await env.client.workflow.start<typeof noopChain>('noopChain', { taskQueue, workflowId: 'bench-noop-chain', args: [n] });
      await handle.result();
      return handle.fetchHistory();
    });
    const timings = activityTimings(history);
    const scheduleToStart = scheduleToStartMs(timings);
    const completionToNext = completionToNextMs(timings);
    const overhead = completionToNext.map((gap, i) => scheduleToStart[i]! + gap);
    return { scheduleToStart, completionToNext, overhead, phases: gapPhases(history) };
  } finally {
    await env.teardown();
  }
}

interface CampaignHistories {
  source: string;
  histories: History[];
}

const workflowType = (h: History) => h.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '';

/** A file, or every history of the newest recorded campaign in a directory (files named `<workflow>-<run8>.json`). */
function fromFiles(target: string): History[] {
  if (!statSync(target).isDirectory()) return [readHistoryFile(target)];
  const files = readdirSync(target).filter((f) => f.endsWith('.json'));
  const campaigns = files.filter((f) => /^[a-z0-9-]+-[0-9a-f]{8}\.json$/.test(f) && !f.includes('_'));
  const newest = campaigns.sort((a, b) => statSync(path.join(target, b)).mtimeMs - statSync(path.join(target, a)).mtimeMs)[0];
  const run = newest?.slice(-13, -5);
  return files.filter((f) => run === undefined || f.endsWith(`-${run}.json`)).map((f) => readHistoryFile(path.join(target, f)));
}

/**
 * The newest completed campaign on the local dev server with every workflow of its tree (their ids
 * start with its id). When no server is up, one is started over `npm start`'s history for the reading.
 */
async function fromDevServer(): Promise<CampaignHistories | undefined> {
  let started: RunningDevServer | undefined;
  if (!(await isServing(localDefaults.address))) {
    const server = localDevServerOptions(defaultStateDir); // npm start's, whose history outlives its stack
    if (!existsSync(server.dbFile!)) return undefined;
    started = await startDevServer(server);
  }
  const connection = await Connection.connect({ address: localDefaults.address });
  try {
    const client = new Client({ connection, namespace: localDefaults.namespace });
    let newest: { workflowId: string; startTime: Date } | undefined;
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'campaign' AND ExecutionStatus = 'Completed'` })) {
      if (!newest || wf.startTime > newest.startTime) newest = wf;
    }
    if (!newest) return undefined;
    const histories: History[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${newest.workflowId}"` })) {
      histories.push(await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory());
    }
    return { source: `campaign ${newest.workflowId} on the dev server at ${localDefaults.address}`, histories };
  } catch {
    return undefined;
  } finally {
    await connection.close();
    await started?.stop();
  }
}

async function campaignHistories(arg: string | undefined): Promise<CampaignHistories> {
  if (arg) return { source: arg, histories: fromFiles(arg) };
  const live = await fromDevServer();
  if (live) return live;
  const dir = path.join(__dirname, '../test/histories');
  return { source: `test/histories (recorded by scripts/record-histories.ts from the test harness: fake activities of ~5 ms, so the share is far above a real campaign's)`, histories: fromFiles(dir) };
}

async function main() {
  installQuietRuntime();
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const historyArg = args.includes('--history') ? args[args.indexOf('--history') + 1] : undefined;
  const n = quick ? 50 : 200;
  const machine = describeMachine();
  // Latency is what a busy machine shows first: the load goes with the figures.
  console.log(`orchestration: ${n} sequential no-op activities on the local dev server, one worker; ${machine}; load average ${loadAverage()}`);

  // Temporal's defaults as the peer, in the same run: the difference is the dev server's dynamic config.
  const peer = await measureChain(n, true);
  const chain = await measureChain(n, false);
  const s2s = { p50: median(chain.scheduleToStart), p99: percentile(chain.scheduleToStart, 99) };
  const c2n = { p50: median(chain.completionToNext), p99: percentile(chain.completionToNext, 99) };
  const over = { p50: median(chain.overhead), p99: percentile(chain.overhead, 99) };
  const peerOver = median(peer.overhead);
  for (const [name, c] of [['Temporal dev server defaults', peer], [`hala's dev server (${dynamicConfigArgs().filter((a) => a.includes('=')).join(', ')})`, chain]] as const) {
    console.log(`  ${name}:`);
    console.log(`    schedule→start:         median ${ms(median(c.scheduleToStart))}, p99 ${ms(percentile(c.scheduleToStart, 99))} (${c.scheduleToStart.length} activities)`);
    console.log(`    completion→next:        median ${ms(median(c.completionToNext))}, p99 ${ms(percentile(c.completionToNext, 99))} (${c.completionToNext.length} gaps)`);
    const phase = (k: keyof GapPhases) => ms(median(c.phases.map((p) => p[k])));
    console.log(`      of which (medians): completion→workflow task scheduled ${phase('toTaskScheduled')}, task queued ${phase('taskQueued')}, ` +
      `task run by the worker ${phase('taskRun')}, task completed→activity scheduled ${phase('toNextScheduled')}`);
    console.log(`    per-activity overhead:  median ${ms(median(c.overhead))}, p99 ${ms(percentile(c.overhead, 99))} (schedule→start + completion→next, per activity)`);
  }

  const campaign = await campaignHistories(historyArg);
  const root = campaign.histories.find((h) => workflowType(h) === 'campaign') ?? campaign.histories.reduce((a, b) => (wallMs(b) > wallMs(a) ? b : a));
  const wall = wallMs(root);
  const activities = campaign.histories.reduce((sum, h) => sum + activityCount(h), 0);
  const share = (activities * over.p50) / wall;
  const ownS2s = median(campaign.histories.flatMap((h) => scheduleToStartMs(activityTimings(h))));
  console.log(`  campaign: ${campaign.source}`);
  console.log(`    ${campaign.histories.length} workflows, ${activities} activities, wall time ${(wall / 1000).toFixed(2)} s (campaign's first event to its last)`);
  console.log(`    share = activities × median per-activity overhead / wall = ${activities} × ${ms(over.p50)} / ${(wall / 1000).toFixed(2)} s = ${(100 * share).toFixed(1)}%`);
  console.log(`    (its own activities' schedule→start median: ${ms(ownS2s)})`);

  const rows: BenchRow[] = [
    { figure: 'activity schedule→start, median / p99', hala: `${ms(s2s.p50)} / ${ms(s2s.p99)}`, peers: {}, target: '', met: null },
    { figure: 'completion→next schedule, median / p99', hala: `${ms(c2n.p50)} / ${ms(c2n.p99)}`, peers: {}, target: '', met: null },
    { figure: 'per-activity dispatch overhead, median', hala: ms(over.p50), peers: { 'Temporal dev server defaults': ms(peerOver) }, target: '≤ 30 ms', met: over.p50 <= 30 },
    {
      figure: `overhead share of the tiny campaign's wall time (${activities} activities × median / ${(wall / 1000).toFixed(1)} s)`,
      hala: `${(100 * share).toFixed(1)}%`,
      peers: {},
      target: '≤ 2%',
      met: share <= 0.02,
    },
  ];
  printBenchLine('orchestration', rows, `${n} sequential no-op activities (load average ${loadAverage()} at the end); campaign from ${historyArg ?? (campaign.source.startsWith('test/') ? 'test/histories' : 'the dev server')}`, machine);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
