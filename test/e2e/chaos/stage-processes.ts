// The processes a Python worker runs its stages in, as the chaos faults find them: the worker's own
// children (runners exec'd as `python -m hala_runners.runners.<name>`), and on the local stack the
// children of its fork server (HALA_RUNNER_PRELOAD: fork_server.py), which keep the server's command
// line and carry the runner's module name as their process name (fork_child.py sets it).
import { execFileSync } from 'node:child_process';

export interface StageProcess {
  pid: number;
  /** The process name: a forked runner's module (`train`, `evaluate`, `translate`). */
  name: string;
  args: string;
  /** Forked from the worker's fork server rather than exec'd by the worker. */
  forked: boolean;
}

function children(pid: number, forked: boolean): StageProcess[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out.split('\n').filter((l) => l.trim()).map((line) => {
    const [p, name, ...args] = line.trim().split(/\s+/);
    return { pid: Number(p), name: name!, args: args.join(' '), forked };
  });
}

/** The runners and engines running under a worker now, exec'd or forked. */
export function stageProcesses(workerPid: number): StageProcess[] {
  return children(workerPid, false).flatMap((c) => (c.args.includes('hala_runners.fork_server') ? children(c.pid, true) : [c]));
}

/** What a worker's processes looked like, for an error that found none of the kind it wanted. */
export const describeProcesses = (workerPid: number) =>
  stageProcesses(workerPid).map((p) => `${p.pid} ${p.forked ? `(forked) ${p.name}` : p.args}`).join('\n') || '(none)';
