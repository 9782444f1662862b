// The supervisor behind `hala up`: a worker that dies is started again; one that is stopped is not,
// even when the stop comes while a restart is under way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { supervise } from '../../workers/supervisor';
import { startWorkerProcess } from '../../workers/worker-process';

const logDir = mkdtempSync(path.join(tmpdir(), 'hala-supervisor-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

/** A stand-in worker: says it is ready after `readyMs`, then idles until killed. */
const fakeWorker = (readyMs = 0) => () =>
  startWorkerProcess({
    label: 'fake worker',
    command: process.execPath,
    args: ['-e', `setTimeout(() => console.log('hala worker ready'), ${readyMs}); setInterval(() => {}, 1000)`],
    env: process.env,
    logDir,
    logName: 'fake.log',
  });

const alive = (pid: number | undefined) => {
  try {
    process.kill(pid!, 0);
    return true;
  } catch {
    return false;
  }
};

describe('supervise', () => {
  it('starts a worker again when it dies, and not when it is stopped', async () => {
    const lines: string[] = [];
    const worker = await supervise({ label: 'fake', start: fakeWorker(), restartDelayMs: 50, log: (l) => lines.push(l) });
    const first = worker.current().pid;
    process.kill(first!, 'SIGKILL');
    await worker.restarted(0);
    expect(worker.restarts()).toBe(1);
    expect(worker.current().pid).not.toBe(first);
    expect(lines[0]).toMatch(/fake \(pid \d+\) exited \(SIGKILL\); restarting/);

    const second = worker.current().pid;
    await worker.stop(2000);
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(second)).toBe(false);
    expect(worker.restarts()).toBe(1);
  });

  it('stops a worker that was still starting when the stack stopped', async () => {
    const spawned: number[] = [];
    const start = async () => {
      const child = await fakeWorker(500)();
      spawned.push(child.pid!);
      return child;
    };
    const worker = await supervise({ label: 'slow', start, restartDelayMs: 10, log: () => undefined });
    process.kill(worker.current().pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100)); // the replacement is spawning, not ready yet
    await worker.stop(2000);
    await new Promise((r) => setTimeout(r, 1500)); // long enough for it to have become ready
    expect(spawned).toHaveLength(2);
    expect(spawned.filter(alive)).toEqual([]);
    expect(worker.restarts()).toBe(0);
  });
});
