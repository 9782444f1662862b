// `hala up` killed with -9 cannot stop its workers: they notice their launcher is gone and stop
// themselves, instead of serving on as orphans that hold GPUs and poll queues.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { freePort } from '../support/ports';

/** Running (a zombie waiting for init to reap it counts as gone). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

const stateDir = mkdtempSync(path.join(tmpdir(), 'hala-orphans-'));
let serverPid: number | undefined;
afterAll(() => {
  if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGTERM'); // its launcher watch stops it within a second; in case it has not
  rmSync(stateDir, { recursive: true, force: true });
});

it('workers stop themselves when their launcher is killed with -9', async () => {
  const launcher = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/stack-launcher.ts'), stateDir, String(await freePort()), String(await freePort())], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = await new Promise<{ workers: Record<string, number> }>((resolve, reject) => {
    launcher.once('exit', (code) => reject(new Error(`the launcher exited (${code}) before the stack was up`)));
    createInterface({ input: launcher.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as { workers: Record<string, number> });
    });
  });
  serverPid = Number(
    execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(launcher.pid)], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.includes('server start-dev'))
      ?.trim()
      .split(/\s+/)[0],
  );
  const pids = Object.values(started.workers);
  expect(pids).toHaveLength(5);
  expect(pids.every(alive)).toBe(true);

  launcher.kill('SIGKILL');
  const t0 = Date.now();
  while (pids.some(alive) && Date.now() - t0 < 90_000) await new Promise((r) => setTimeout(r, 500));
  const left = Object.entries(started.workers).filter(([, pid]) => alive(pid));
  console.log(`orphans: workers stopped ${((Date.now() - t0) / 1000).toFixed(1)} s after their launcher was killed`);
  expect(left).toEqual([]);
}, 5 * 60_000);
