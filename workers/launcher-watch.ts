// A process group that must not outlive the process that started it, when that process cannot stop
// it (kill -9): the Temporal dev server, which has no way of watching its launcher itself (the
// workers do, through HALA_LAUNCHER_PID). A shell of its own polls once a second, SIGTERMs the group
// once its launcher is gone, and exits once the group is gone in any way.
import { spawn } from 'node:child_process';

const watcher = `
while [ "$(cut -d' ' -f4 /proc/$$/stat)" = "$1" ] && kill -0 "-$2" 2>/dev/null; do sleep 1; done
kill -TERM "-$2" 2>/dev/null || true`;

/** Watches on behalf of this process; the group `pgid` is a child started with `detached: true`. */
export function stopGroupWhenLauncherDies(pgid: number): void {
  // The watcher's parent is this process: its ppid changes (to a reaper) when this process dies.
  const child = spawn('sh', ['-c', watcher, 'hala-launcher-watch', String(process.pid), String(pgid)], { stdio: 'ignore', detached: true });
  child.unref();
}
