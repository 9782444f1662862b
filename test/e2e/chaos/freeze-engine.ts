// The mid-translate ambush of the chaos suite. A tiny shard translates in ~0.5 s, too fast to catch
// through heartbeats; so the store is watched for a shard with finished chunks and no output yet,
// the infer worker's engine is frozen right there (SIGSTOP), and the fault strikes a worker whose
// shard is provably half done, with the rows of its finished chunks counted in the files.
import { type Dirent, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { LocalStack } from '../../../workers/local-stack';
import { sql } from '../../support/duckdb-sql';
import { pendingActivities, type PendingActivity } from './observe';
import { type StageProcess, stageProcesses } from './stage-processes';

/** The long-lived translation engine a Python infer worker started, if any. */
export function enginePid(workerPid: number): number | undefined {
  const serving = (p: StageProcess) => (p.forked ? p.name === 'translate' : p.args.includes('hala_runners.runners.translate') && p.args.includes('--serve'));
  return stageProcesses(workerPid).find(serving)?.pid;
}

/** Shard output folders (`.../partial/chunk-*.parquet` written, no `translations.parquet` yet) below `dir`. */
function halfTranslated(dir: string): { dir: string; chunks: string[] }[] {
  const found: { dir: string; chunks: string[] }[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return found; // the stage has not written anything yet
  }
  for (const e of entries) {
    if (!e.isDirectory() || e.name !== 'partial') continue;
    const shard = e.parentPath;
    if (existsSync(path.join(shard, 'translations.parquet'))) continue;
    const chunks = readdirSync(path.join(shard, 'partial')).filter((f) => /^chunk-\d+\.parquet$/.test(f)).map((f) => path.join(shard, 'partial', f));
    if (chunks.length > 0) found.push({ dir: shard, chunks });
  }
  return found;
}

/**
 * Polls the store every 20 ms for a shard caught half translated, freezes the infer worker's engine
 * (SIGSTOP to its process group) so it stays half done, and returns the started translate activity
 * with the rows its finished chunks hold (counted in the chunk files) as its progress.
 */
export async function freezeEngineMidShard(client: Client, stack: LocalStack, campaign: string, stages: string[], done: () => boolean): Promise<PendingActivity | undefined> {
  const stagesDir = path.join(stack.storeRoot.replace(/^file:\/\//, ''), 'stages');
  while (!done()) {
    const caught = stages.flatMap((s) => halfTranslated(path.join(stagesDir, s)));
    const engine = caught.length > 0 ? enginePid(stack.workers.infer.current().pid!) : undefined;
    if (engine) {
      process.kill(-engine, 'SIGSTOP');
      const still = stages.flatMap((s) => halfTranslated(path.join(stagesDir, s)));
      if (still.length > 0) {
        const victim = await startedTranslation(client, campaign, stages);
        if (victim) {
          const [counted] = await sql(`SELECT count(*) AS n FROM read_parquet([${still[0]!.chunks.map((f) => `'${f}'`).join(', ')}])`);
          const rows = Number(counted!.n);
          return { ...victim, progress: { phase: 'translate', done: rows, total: victim.progress?.total ?? 0, checkpoint_uri: null, metrics: {} } };
        }
      }
      process.kill(-engine, 'SIGCONT'); // the shard finished meanwhile: let it go and watch again
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

async function startedTranslation(client: Client, campaign: string, stages: string[]): Promise<PendingActivity | undefined> {
  for (let i = 0; i < 50; i++) {
    const pending = (await Promise.all(stages.map((s) => pendingActivities(client, `${campaign}/${s}`).catch(() => [])))).flat();
    const started = pending.filter((a) => a.activityType === 'translate_shard' && a.started);
    if (started.length === 1) return started[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
