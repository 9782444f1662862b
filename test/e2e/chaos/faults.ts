// The faults the chaos suite injects into a running local stack, each when the campaign reaches
// the moment it is meant for. One observer loop reads the pending activities (with their last
// heartbeat) and fires every fault whose moment has come; each strike records what its victim had
// reported just before, so the suite can measure the rework after the campaign ends.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { LocalStack } from '../../../workers/local-stack';
import { enginePid, freezeEngineMidShard } from './freeze-engine';
import { pendingActivities, type PendingActivity } from './observe';
import { describeProcesses, stageProcesses } from './stage-processes';

export interface Fault {
  scenario: string;
  /** Workflow id prefixes (below the campaign) whose pending activities can trigger the fault. */
  under: string[];
  /** Is this the moment? (Faults with an ambush watch on their own.) */
  when?: (a: PendingActivity) => boolean;
  strike: (stack: LocalStack) => Promise<void>;
  /** Strike every attempt of the activity, not once: a fault the retry meets again (a broken kernel). */
  everyAttempt?: boolean;
  /**
   * For moments too short to catch through heartbeats (a tiny shard translates in ~0.5 s): watches
   * on its own, freezes the victim, and returns it; the loop then strikes.
   */
  ambush?: (client: Client, stack: LocalStack, campaign: string, done: () => boolean) => Promise<PendingActivity | undefined>;
}

export interface Strike {
  scenario: string;
  victim: PendingActivity;
  /** ms since the campaign started */
  at: number;
}

/** The step of a checkpoint from its uri (`.../checkpoint-<step>`); 0 for none. */
export const checkpointStep = (uri: string | null | undefined) => Number(/checkpoint-(\d+)\/?$/.exec(uri ?? '')?.[1] ?? 0);
const midway = (a: PendingActivity) => !!a.progress && a.progress.done > 0 && a.progress.done < a.progress.total;

/** The stage runner a Python worker started (exec'd running hala_runners.runners.*, or forked from its fork server). */
function runnerPid(workerPid: number): number {
  const runner = stageProcesses(workerPid).find((p) => p.forked || p.args.includes('hala_runners.runners.'));
  if (!runner) throw new Error(`chaos: worker ${workerPid} runs no stage runner now:\n${describeProcesses(workerPid)}`);
  return runner.pid;
}

const kill = (pid: number | undefined, signal: NodeJS.Signals) => {
  if (pid === undefined) throw new Error('chaos: the process to signal has no pid');
  process.kill(pid, signal);
};

/** A runner that has started under `workerPid`: polled, since the activity is pending before its runner is up. */
async function runnerStarted(workerPid: number, timeoutMs = 30_000): Promise<number> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      return runnerPid(workerPid);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

/**
 * A memory limit at what the process holds now (RLIMIT_AS), so its next large allocation is refused
 * as on a full GPU: a real allocator failure, not an exception planted in the runner. The limit
 * dies with the process; the retry's runner is a new process.
 */
function capMemoryAtCurrentSize(pid: number): void {
  const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[0]);
  const bytes = pages * Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));
  execFileSync('prlimit', [`--pid=${pid}`, `--as=${bytes}`]);
}

/** kill -9 the train worker's runner process only, as the OOM killer would, at the moment `when` picks. */
export function killTrainRunner(under: string[], when: (a: PendingActivity) => boolean): Fault {
  return {
    scenario: 'kill -9 the Python train runner mid-train',
    under,
    when,
    strike: async (stack) => kill(runnerPid(stack.workers.train.current().pid!), 'SIGKILL'),
  };
}

/**
 * kill -9 the whole infer worker, as a lost VM: its engine process dies with it. A tiny shard takes
 * ~0.5 s, too short to catch through heartbeats, so the ambush watches the store for a shard of
 * `stages` with finished chunks and no output yet, freezes the engine there (SIGSTOP), then strikes.
 */
export function killInferWorkerMidTranslate(stages: string[]): Fault {
  return {
    scenario: 'kill -9 the Python infer worker mid-translate',
    under: stages,
    ambush: (client, stack, campaign, done) => freezeEngineMidShard(client, stack, campaign, stages, done),
    strike: async (stack) => {
      const worker = stack.workers.infer.current().pid!;
      const engine = enginePid(worker);
      kill(worker, 'SIGKILL');
      if (engine) process.kill(-engine, 'SIGKILL'); // stopped processes cannot notice their parent died
    },
  };
}

/** The students the chaos campaign trains, each with the fault it meets in sft. */
export const chaosStudents = {
  /** Preempted mid-sft: checkpoints at once, resumes with no step redone. */
  preempted: 'hala-350m',
  /** Runs out of memory mid-sft: the retry trains at half the batch and completes. */
  outOfMemory: 'hala-700m',
  /** Its runner crashes on every attempt: fails alone, and a rerun completes only its branch. */
  crashing: 'hala-1-2b',
} as const;

/** The faults, in the order the campaign meets them; the translator checkpoints every `translatorSaveEvery` steps. */
export function campaignFaults(translatorSaveEvery: number): Fault[] {
  return [
    {
      // All workflows and CPU activities live in this process.
      scenario: 'kill -9 the TypeScript worker',
      under: ['compress-teacher'],
      when: (a) => a.activityType === 'compress_teacher',
      strike: async (stack) => kill(stack.workers.cpu.current().pid, 'SIGKILL'),
    },
    killTrainRunner(['train-translator'], (a) => {
      // Once training went past a checkpoint, so the retry has one to resume from.
      const p = a.progress;
      if (a.activityType !== 'train_sft' || p?.phase !== 'train') return false;
      return p.total > translatorSaveEvery ? p.done > translatorSaveEvery && p.done > checkpointStep(p.checkpoint_uri) : p.done >= p.total / 2;
    }),
    {
      // The server goes away under a GPU activity in full flight; the runner keeps training.
      scenario: 'restart the Temporal dev server (SQLite)',
      under: ['train-translator'],
      when: (a) => a.activityType === 'train_sft' && a.progress?.phase === 'train' && a.progress.done >= a.progress.total / 2,
      strike: (stack) => stack.restartServer(),
    },
    killInferWorkerMidTranslate(['translate-instructions', 'evaluate-translator']),
    {
      // A preemption notice: the worker passes it on, the runner checkpoints and the attempt fails at once.
      scenario: 'SIGTERM the Python train worker mid-sft (preemption notice)',
      under: [`sft-${chaosStudents.preempted}`],
      when: (a) => a.activityType === 'train_sft' && a.progress?.phase === 'train' && midway(a),
      strike: async (stack) => kill(stack.workers.train.current().pid, 'SIGTERM'),
    },
    {
      // The batch no longer fits (a longer sequence, a smaller GPU than planned): the runner's next
      // step asks for memory it cannot have.
      scenario: 'cap the memory of the Python train runner mid-sft (out of memory)',
      under: [`sft-${chaosStudents.outOfMemory}`],
      when: (a) => a.activityType === 'train_sft' && a.progress?.phase === 'train' && a.progress.done >= 2 && midway(a),
      strike: async (stack) => capMemoryAtCurrentSize(runnerPid(stack.workers.train.current().pid!)),
    },
    {
      // A runner that dies the same way whatever is retried (a broken kernel, a corrupt driver):
      // RunnerFailed, retried only retries.runner_failed times.
      scenario: 'SIGSEGV the Python train runner on every attempt (a crashing runner)',
      under: [`sft-${chaosStudents.crashing}`],
      everyAttempt: true,
      when: (a) => a.activityType === 'train_sft' && a.started,
      strike: async (stack) => kill(await runnerStarted(stack.workers.train.current().pid!), 'SIGSEGV'),
    },
    {
      // A hung runner (a deadlocked collective, a wedged driver): alive, holding its GPU, silent.
      // SIGSTOP freezes its whole group; only the activity's stall watchdog can notice.
      scenario: 'SIGSTOP the Python eval runner mid-benchmarks (a hung runner)',
      under: ['evaluate-'],
      when: (a) => a.activityType === 'evaluate_benchmarks' && !!a.progress && a.progress.phase !== 'start',
      strike: async (stack) => {
        process.kill(-(await runnerStarted(stack.workers.eval.current().pid!)), 'SIGSTOP');
      },
    },
  ];
}

/**
 * Watches campaign `campaign` until `done()` and fires each fault once, at its moment. Errors while
 * the server or a worker is down (other faults cause them) are part of the weather: keep watching.
 */
export async function unleash(client: Client, stack: LocalStack, campaign: string, faults: Fault[], done: () => boolean, log: (line: string) => void): Promise<Strike[]> {
  const t0 = Date.now();
  const struck: Strike[] = [];
  const waiting = faults.filter((f) => !f.ambush);
  const ambushes = faults.filter((f) => f.ambush).map(async (fault) => {
    const victim = await fault.ambush!(client, stack, campaign, done);
    if (!victim) return;
    await fault.strike(stack);
    const strike = { scenario: fault.scenario, victim, at: Date.now() - t0 };
    log(`chaos: +${(strike.at / 1000).toFixed(0)} s ${fault.scenario} (${victim.workflowId} ${victim.activityType} frozen at ${victim.progress?.done}/${victim.progress?.total} rows)`);
    struck.push(strike);
  });
  const struckAttempts = new Set<string>();
  while (waiting.length > 0 && !done()) {
    // Only the workflows a waiting fault watches: a short loop sees a ~2 s shard half done.
    const pending: PendingActivity[] = [];
    try {
      for (const under of new Set(waiting.flatMap((f) => f.under))) pending.push(...(await pendingActivities(client, `${campaign}/${under}`)));
    } catch {
      /* the server is restarting */
    }
    for (const fault of [...waiting]) {
      const attemptKey = (a: PendingActivity) => `${fault.scenario} ${a.workflowId} ${a.activityId} #${a.attempt}`;
      const victim = pending.find((a) => fault.under.some((u) => a.workflowId.startsWith(`${campaign}/${u}`)) && fault.when?.(a) && !struckAttempts.has(attemptKey(a)));
      if (!victim) continue;
      await fault.strike(stack);
      const strike = { scenario: fault.scenario, victim, at: Date.now() - t0 };
      log(`chaos: +${(strike.at / 1000).toFixed(0)} s ${fault.scenario} (${victim.workflowId} ${victim.activityType} attempt ${victim.attempt} at ${victim.progress?.done ?? 0}/${victim.progress?.total ?? '?'})`);
      struckAttempts.add(attemptKey(victim));
      if (!fault.everyAttempt) waiting.splice(waiting.indexOf(fault), 1);
      // A fault that strikes every attempt counts once, for its latest victim.
      const earlier = struck.findIndex((s) => s.scenario === fault.scenario);
      if (earlier >= 0) struck.splice(earlier, 1);
      struck.push(strike);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(ambushes);
  for (const fault of faults) if (!struck.some((s) => s.scenario === fault.scenario)) log(`chaos: never struck: ${fault.scenario}`);
  return struck;
}
