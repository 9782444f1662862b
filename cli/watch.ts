// `hala watch <campaign-id>` (and `run --watch`): follow a campaign until it closes. Every
// interval it asks the campaign for its progress, describes the running stages for their pending
// activities' heartbeats (pending-work.ts), checks that someone serves what waits (no-worker.ts)
// and shows the result as a terminal block redrawn in place, plain appended lines, or NDJSON.
import type { Client } from '@temporalio/client';
import type { CampaignProgress } from '../contracts/campaign';
import { progressQuery } from '../workflows/definitions';
import { defaultNoWorkerAfterMinutes, findNoWorker } from './no-worker';
import { pendingWork } from './pending-work';
import { ProgressRate } from './progress-rate';
import { PlainLog, terminalFrame } from './watch-render';
import { snapshot, type WatchSnapshot } from './watch-snapshot';

export type WatchMode = 'terminal' | 'plain' | 'json';

export interface WatchOptions {
  mode: WatchMode;
  /** ANSI colours (terminal mode only). */
  colour: boolean;
  namespace: string;
  intervalMs?: number;
  noWorkerAfterMs?: number;
  /** Plain mode: the most often a running stage gets a progress line (sooner at each quarter). */
  plainEveryMs?: number;
  out?: Pick<NodeJS.WriteStream, 'write'> & { columns?: number; rows?: number };
}

/** A terminal gets the redrawn block; a pipe or a file gets plain lines; --json gets NDJSON. */
export function watchMode(stdout: { isTTY?: boolean }, json: boolean): WatchMode {
  return json ? 'json' : stdout.isTTY ? 'terminal' : 'plain';
}

/** Follows the campaign until it closes; its last look is drawn before this returns. */
export async function watchCampaign(client: Client, id: string, opts: WatchOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const handle = client.workflow.getHandle(id);
  const t0 = Date.now();
  const rates = new ProgressRate();
  const show = sink(opts, out, t0);
  let closed = false;
  const done = handle.result().then(
    () => (closed = true),
    () => (closed = true),
  );
  for (;;) {
    const last = closed;
    const progress: CampaignProgress | undefined = await handle.query(progressQuery).catch(() => undefined);
    if (progress) {
      const work = await pendingWork(client, progress).catch(() => []);
      const noWorker = await findNoWorker(client, opts.namespace, work, opts.noWorkerAfterMs ?? defaultNoWorkerAfterMinutes * 60_000).catch(() => []);
      show(snapshot(progress, work, noWorker, rates));
    }
    if (last) return;
    await Promise.race([done, new Promise((r) => setTimeout(r, opts.intervalMs ?? 2000))]);
  }
}

function sink(opts: WatchOptions, out: NonNullable<WatchOptions['out']>, t0: number): (snap: WatchSnapshot) => void {
  if (opts.mode === 'json') return (snap) => out.write(JSON.stringify(snap) + '\n');
  if (opts.mode === 'plain') {
    const log = new PlainLog(t0, opts.plainEveryMs);
    return (snap) => {
      const lines = log.lines(snap);
      if (lines.length > 0) out.write(lines.join('\n') + '\n');
    };
  }
  let drawn = 0;
  return (snap) => {
    const lines = terminalFrame(snap, { colour: opts.colour, width: out.columns ?? 100, height: out.rows, t0 });
    // Back to the block's first line, clear to the end of the screen, draw the new block.
    out.write((drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : '') + lines.join('\n') + '\n');
    drawn = lines.length;
  };
}
