import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface Measured {
  /** exit status (null when killed by a signal) */
  code: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** the largest sum of RSS over the child and all its descendants, sampled every `sampleMs` */
  peakRssBytes: number;
}

/** RSS in bytes of `pid` and every process below it (from /proc; Linux only). */
export function treeRssBytes(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // field 4 of /proc/<pid>/stat is the parent; the command name (field 2) may hold spaces
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.pop() as number;
    try {
      const resident = Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]);
      total += resident * 4096;
    } catch {
      // gone
    }
    queue.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Runs a command to its end, sampling the peak RSS of its whole process tree. */
export function runMeasured(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; sampleMs?: number } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sample = () => {
      if (child.pid !== undefined) peak = Math.max(peak, treeRssBytes(child.pid));
    };
    const timer = setInterval(sample, options.sampleMs ?? 50);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, wallSeconds: (performance.now() - t0) / 1000, peakRssBytes: peak });
    });
  });
}

export function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
