// `--watch`: follow a campaign through its progress query, one line per stage change.
import type { WorkflowHandle } from '@temporalio/client';
import type { CampaignProgress } from '../contracts/campaign';
import { progressQuery } from '../workflows/definitions';

export async function watchCampaign(
  handle: WorkflowHandle,
  print: (line: string) => void = console.log,
  intervalMs = 2000,
): Promise<void> {
  const seen = new Map<string, string>();
  const t0 = Date.now();
  const done = handle.result().then(
    () => undefined,
    () => undefined,
  );
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    const progress: CampaignProgress | undefined = await handle.query(progressQuery).catch(() => undefined);
    for (const s of progress?.stages ?? []) {
      if (seen.get(s.stage) === s.status) continue;
      seen.set(s.stage, s.status);
      if (s.status === 'pending') continue;
      const at = new Date(Date.now() - t0).toISOString().slice(14, 19);
      print(`[${at}] ${s.stage.padEnd(26)} ${s.status}${s.forced && s.status !== 'running' ? ' (forced)' : ''}${s.error ? `: ${s.error}` : ''}`);
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, intervalMs))]);
  }
}
