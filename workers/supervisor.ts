// Keeps one worker process running: when it dies without being asked to (kill -9, OOM, a crash),
// it is started again after a short pause, the way a process manager or a Kubernetes Deployment
// would. Temporal does the rest: the dead worker's activities time out on their heartbeat and are
// retried on the new one, which resumes them from their checkpoints.
import type { ChildProcess } from 'node:child_process';
import { stopGroup } from './dev-server';

export interface SupervisedProcess {
  readonly label: string;
  /** The process running now (changes after each restart). */
  current(): ChildProcess;
  /** Unexpected exits so far, each followed by a restart. */
  restarts(): number;
  /** Resolves once a process started after `restartsSoFar` restarts is up. */
  restarted(restartsSoFar: number): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

export interface SuperviseOptions {
  label: string;
  /** Starts the process and resolves once it is ready (it polls its queue). */
  start: () => Promise<ChildProcess>;
  /** Pause before a restart; doubled for each restart that dies within a minute, up to 30 s. */
  restartDelayMs?: number;
  log?: (line: string) => void;
}

export async function supervise(options: SuperviseOptions): Promise<SupervisedProcess> {
  const log = options.log ?? ((line: string) => console.error(line));
  const baseDelay = options.restartDelayMs ?? 1000;
  let child = await options.start();
  let restarts = 0;
  let stopping = false;
  let delay = baseDelay / 2; // the first quick death doubles it back to the base
  let startedAt = Date.now();
  const waiters: Array<{ after: number; resolve: () => void }> = [];

  const watch = (proc: ChildProcess) => {
    proc.once('exit', (code, signal) => {
      if (stopping) return;
      // A process that keeps dying at once backs off; one that ran a while restarts quickly.
      delay = Date.now() - startedAt < 60_000 ? Math.min(delay * 2, 30_000) : baseDelay;
      log(`hala up: ${options.label} (pid ${proc.pid}) exited (${signal ?? code}); restarting in ${delay / 1000} s`);
      void restart();
    });
  };

  const restart = async (): Promise<void> => {
    await new Promise((r) => setTimeout(r, delay));
    while (!stopping) {
      try {
        const next = await options.start();
        if (stopping) {
          await stopGroup(next); // stop() came while it was starting: it must not outlive the stack
          return;
        }
        child = next;
        break;
      } catch (err) {
        log(`hala up: ${options.label} failed to restart: ${(err as Error).message}; trying again in ${delay / 1000} s`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (stopping) return;
    startedAt = Date.now();
    restarts += 1;
    watch(child);
    for (const w of waiters.splice(0)) {
      if (restarts > w.after) w.resolve();
      else waiters.push(w);
    }
  };

  watch(child);
  return {
    label: options.label,
    current: () => child,
    restarts: () => restarts,
    restarted: (after) => (restarts > after ? Promise.resolve() : new Promise((resolve) => waiters.push({ after, resolve }))),
    async stop(graceMs = 15_000) {
      stopping = true;
      await stopGroup(child, graceMs);
    },
  };
}
