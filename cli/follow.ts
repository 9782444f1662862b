// Following a campaign to its end from the command line: `hala watch <id>`, `run --watch` and
// `up --then-run`. The live view (watch.ts) while it runs, then the summary; the exit status says
// how it ended.
import { type Client, type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { InvalidArgumentError, Option } from 'commander';
import type { CampaignProgress } from '../contracts/campaign';
import type { CampaignResult } from '../workflows/campaign';
import { progressQuery } from '../workflows/definitions';
import type { TemporalConnection } from '../platform/temporal-connection';
import { defaultNoWorkerAfterMinutes, parseNoWorkerAfter } from './no-worker';
import { renderSummary } from './summary';
import { ExitCode, useColour } from './conventions';
import { watchCampaign, watchMode } from './watch';

/** `--no-worker-after <minutes>`, for status and watch (commander names it workerAfter: the `no-` belongs to the phrase). */
export const noWorkerAfterOption = () =>
  new Option('--no-worker-after <minutes>', 'say "no worker on <queue>" once an activity has waited this long on a queue nobody polls')
    .default(defaultNoWorkerAfterMinutes * 60_000, String(defaultNoWorkerAfterMinutes))
    .argParser((v: string) => {
      try {
        return parseNoWorkerAfter(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });

export interface WatchFlags {
  json?: boolean;
  /** Seconds between looks. */
  interval: string;
  /** Milliseconds, from --no-worker-after. */
  workerAfter: number;
}

/** The live view, then the summary (none with --json: stdout stays NDJSON); exit status 1 unless it completed. */
export async function follow(c: Client, handle: WorkflowHandle, temporal: TemporalConnection, uiUrl: string, flags: Partial<WatchFlags> = {}): Promise<void> {
  const mode = watchMode(process.stdout, flags.json ?? false);
  const intervalS = Number(flags.interval ?? 2);
  if (!(intervalS > 0)) throw new Error(`--interval must be a positive number of seconds (got ${flags.interval}), e.g. --interval 5`);
  await watchCampaign(c, handle.workflowId, {
    mode,
    colour: useColour(process.stdout),
    namespace: temporal.namespace,
    intervalMs: intervalS * 1000,
    noWorkerAfterMs: flags.workerAfter,
  });
  try {
    const result = (await handle.result()) as CampaignResult;
    if (mode !== 'json') console.log('\n' + renderSummary(result.progress, uiUrl, temporal.namespace));
    if (result.progress.state !== 'completed') process.exitCode = ExitCode.failed;
  } catch (err) {
    const progress: CampaignProgress | undefined = await handle.query(progressQuery).catch(() => undefined);
    if (progress && mode !== 'json') console.error('\n' + renderSummary(progress, uiUrl, temporal.namespace));
    console.error(`hala: campaign ${handle.workflowId} failed: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
    process.exitCode = ExitCode.failed;
  }
}

/** `hala watch <id>`: a campaign that is not there (or is another workflow) exits 2 saying so. */
export async function watchVerb(c: Client, id: string, temporal: TemporalConnection, uiUrl: string, flags: WatchFlags): Promise<void> {
  const handle = c.workflow.getHandle(id);
  const described = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  if (described?.type !== 'campaign') {
    console.error(`hala watch: ${described ? `${id} is a ${described.type} workflow, not a campaign` : `no campaign ${id} in namespace ${temporal.namespace} (hala ls lists them)`}`);
    process.exitCode = ExitCode.refused;
    return;
  }
  await follow(c, handle, temporal, uiUrl, flags);
}
