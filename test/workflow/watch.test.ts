// `hala watch` and the "no worker" line, on the real dev server: the real command, run as an operator
// runs it (npx tsx cli/hala.ts ...), under a real pseudo-terminal (its bars must move, redrawn in
// place), into a pipe (plain lines, no escape codes), and against a stage routed to a queue nobody
// polls. The GPU activities are the recording stand-ins, slowed down and heartbeating Progress.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNoWorker } from '../../cli/no-worker';
import { pendingWork } from '../../cli/pending-work';
import type { WatchSnapshot } from '../../cli/watch-snapshot';
import { startCampaign } from '../../cli/start-campaign';
import type { Recipe } from '../../contracts/recipe';
import { progressQuery } from '../../workflows/definitions';
import { hubMirror, repoRoot, venvBin } from '../../platform/python-env';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { until as waitUntil } from '../support/until';

// The campaigns here are slowed down: a longer deadline than the other workflow tests'.
const until = (what: string, test: () => Promise<boolean>, timeoutMs = 90_000) => waitUntil(what, test, timeoutMs, 250);

// eslint-disable-next-line no-control-regex -- escape codes are what these tests look for
const colours = /\x1b\[[0-9;]*m/g;
// eslint-disable-next-line no-control-regex
const redraw = /\x1b\[\d+A\r\x1b\[J/;

describe('hala watch', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let recipe: Recipe;
  const children = new Set<ChildProcess>();

  /** The CLI's environment: this dev server by flag, nothing of the shell's Temporal or colour settings. */
  const cliEnv = () => {
    const e = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|NO_COLOR|FORCE_COLOR|HALA_CODEC_KEY)/.test(k)));
    return { ...e, TERM: 'xterm-256color' };
  };
  const hala = (...args: string[]) => ['npx', 'tsx', 'cli/hala.ts', ...args, '--address', env.address];

  /** Runs a command to its end (or until `stopWhen` says enough), collecting its output. */
  const collect = (argv: string[], stopWhen?: (stdout: string) => boolean, timeoutMs = 240_000) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      children.add(child);
      let stdout = '';
      let stderr = '';
      const stop = () => stopGroup(child);
      const timer = setTimeout(stop, timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stopWhen?.(stdout)) stop();
      });
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => {
        clearTimeout(timer);
        children.delete(child);
        resolve({ code, stdout, stderr });
      });
    });

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, { delayMs: 1500 });
    recipe = harness.recipe;
  }, 120_000);

  afterAll(async () => {
    for (const child of children) stopGroup(child);
    for (const id of ['watch-live', 'watch-no-worker']) await env?.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  }, 60_000);

  it('draws moving bars on a terminal, and plain lines into a pipe, until the summary', async () => {
    await startCampaign(env.client, { ...recipe, seed: 21 }, harness.sha, { id: 'watch-live' });
    const onTerminal = collect([venvBin('python'), path.join(__dirname, '../support/pty-run.py'), '30', '140', '--', ...hala('watch', 'watch-live', '--interval', '0.3')]);
    const intoPipe = collect(hala('watch', 'watch-live', '--interval', '0.3'));

    // (a) The terminal: the block is redrawn in place, and a stage's done count rises from frame to frame.
    const tty = await onTerminal;
    const frames = tty.stdout.split(redraw);
    expect(frames.length, tty.stdout.slice(0, 2000) + tty.stderr).toBeGreaterThan(5);
    expect(tty.stdout).toMatch(colours);
    expect(tty.stdout).toContain('█');
    // One activity's own count, frame after frame: a stage with one activity in flight (not a
    // fan-out's sum, which also rises when a shard joins), the same phase.
    const doneByStage = new Map<string, number[]>();
    for (const frame of frames) {
      for (const line of frame.replace(colours, '').split('\n')) {
        const m = /^▸ (\S+)\s+(\S+) \[[█░]+\] (\d+)\/\d+ \(\d+%\)(.*)$/.exec(line.trimEnd());
        if (!m || m[4]!.includes('in flight')) continue;
        const key = `${m[1]} ${m[2]}`;
        doneByStage.set(key, [...(doneByStage.get(key) ?? []), Number(m[3])]);
      }
    }
    const rising = [...doneByStage.entries()].filter(([, seen]) => seen.some((d, i) => i > 0 && d > seen[i - 1]!));
    expect(rising.length, JSON.stringify([...doneByStage])).toBeGreaterThan(0);
    // Rate and ETA come from successive samples; finished stages show their headline metrics.
    expect(tty.stdout.replace(colours, '')).toMatch(/\d+\/\d+ \(\d+%\) [\d.]+\/s ETA \d+:\d\d/);
    expect(tty.stdout.replace(colours, '')).toMatch(/^✓ filter-opus\s+completed [\d.]+s read=10 kept=8\r?$/m);

    // (b) The pipe: the same campaign as plain appended lines, never a control character, then the summary.
    const piped = await intoPipe;
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).not.toContain('\x1b');
    expect(piped.stdout).toMatch(/^\[\d+:\d\d\] compress-teacher\s+running$/m);
    expect(piped.stdout).toMatch(/^\[\d+:\d\d\] filter-opus\s+completed [\d.]+s read=10 kept=8$/m);
    expect(piped.stdout).toMatch(/^\[\d+:\d\d\] \S+\s+\S+ \d+\/\d+ \((25|50|75|[2-9]\d)%\)/m);
    expect(piped.stdout).toMatch(/\nstage\s+status\s+time\s+artifact\s+sha256\s+metrics\n/);
    expect(piped.stdout).toMatch(/^evaluate-hala-350m\s+completed\s/m);
  }, 300_000);

  it('says "no worker on <queue>" in status and watch for a stage whose queue nobody polls', async () => {
    const nobody = { queue: 'hala-gpu-nobody', gpus: 1, gpu_type: 'any', price_per_gpu_hour: 0 };
    const stranded: Recipe = { ...recipe, seed: 22, resources: { ...recipe.resources, classes: { ...recipe.resources.classes, nobody }, compress: 'nobody' } };
    // No cache: the first test's campaign finished compress-teacher, and a route is in no stage key.
    const handle = await startCampaign(env.client, stranded, harness.sha, { id: 'watch-no-worker', useCache: false });
    const waiting = async () => {
      const progress = await handle.query(progressQuery);
      return (await pendingWork(env.client, progress)).find((w) => w.stage === 'compress-teacher')?.pending.find((p) => p.state === 'scheduled');
    };
    await until('compress_teacher scheduled on the unpolled queue', async () => (await waiting())?.queue === 'hala-gpu-nobody');
    await new Promise((r) => setTimeout(r, 3000));

    // The detection itself: past a threshold of 2 s it is reported, within the default 5 min it is not.
    const work = await pendingWork(env.client, await handle.query(progressQuery));
    expect(await findNoWorker(env.client, 'default', work, 2000)).toEqual([
      { stage: 'compress-teacher', queue: 'hala-gpu-nobody', activity: 'compress_teacher', waiting_s: expect.any(Number) },
    ]);
    expect(await findNoWorker(env.client, 'default', work, 5 * 60_000)).toEqual([]);

    const status = await collect(hala('status', 'watch-no-worker', '--no-worker-after', '0.03'));
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^compress-teacher\s+running: no worker on hala-gpu-nobody for \d+ s\s/m);
    // A stage served by a worker says nothing of the kind.
    expect(status.stdout).not.toMatch(/^filter-opus.*no worker/m);
    const json = JSON.parse((await collect(hala('status', 'watch-no-worker', '--json', '--no-worker-after', '0.03'))).stdout) as { no_worker: unknown[] };
    expect(json.no_worker).toEqual([expect.objectContaining({ stage: 'compress-teacher', queue: 'hala-gpu-nobody' })]);

    // The watch says it on the stage's line, then keeps watching (stopped here once it has).
    const watched = await collect(hala('watch', 'watch-no-worker', '--no-worker-after', '0.03', '--interval', '0.5'), (out) => /no worker on/.test(out), 60_000);
    expect(watched.stdout).toMatch(/^\[\d+:\d\d\] compress-teacher\s+no worker on hala-gpu-nobody for \d+ s$/m);
    // --json: one snapshot per line, the same finding as a field of the stage.
    const ndjson = await collect(hala('watch', 'watch-no-worker', '--json', '--no-worker-after', '0.03', '--interval', '0.5'), (out) => /"no_worker"/.test(out), 60_000);
    // Whole lines only: the last may have been cut when the watch was stopped.
    const snapshots = ndjson.stdout.split('\n').slice(0, -1).map((line) => JSON.parse(line) as WatchSnapshot);
    const waitingLines = snapshots.map((snap) => snap.stages.find((s) => s.stage === 'compress-teacher')!).filter((s) => s.no_worker);
    expect(waitingLines[0]).toMatchObject({
      status: 'running',
      live: { activities: 1, waiting: 1 },
      no_worker: { queue: 'hala-gpu-nobody', activity: 'compress_teacher', waiting_s: expect.any(Number) },
    });
  }, 240_000);

  it('refuses a campaign that is not there, with exit status 2', async () => {
    const missing = await collect(hala('watch', 'no-such-campaign'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^hala watch: no campaign no-such-campaign in namespace default \(hala ls lists them\)$/m);
  });
});

/** The child was started as a process-group leader: stop the group (npx, tsx and node below it). */
function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
