// `hala doctor`'s verdicts and its words: one row per pool, what each check saw, a fix per failure.
import type { DoctorCheck, DoctorPoolResult } from '../../contracts/doctor';
import type { DoctorPool } from './pools';

export interface DoctorRow {
  pool: string;
  queue: string;
  role: string;
  verdict: 'ok' | 'FAIL';
  /** Who answered, when a worker did. */
  worker?: string;
  seconds?: number;
  checks: DoctorCheck[];
}

const startWorkers = (pool: DoctorPool) => {
  const role = pool.roles[0]!;
  return role === 'cpu'
    ? `start the cpu worker on queue ${pool.queue} (npx tsx workers/cpu-worker.ts --task-queue ${pool.queue}; deploy/: the cpu Deployment)`
    : `start ${role} workers polling queue ${pool.queue} (python -m hala_runners.worker --queue-role ${role} --task-queue ${pool.queue}; deploy/: the ${role} Deployment, its KEDA ScaledObject must allow a replica)`;
};

/** A queue given work of two roles cannot be served: a Python worker serves one role's activities. */
function roleConflict(pool: DoctorPool): DoctorCheck | undefined {
  if (pool.roles.length < 2) return undefined;
  return { name: 'worker', ok: false, seen: `the recipe sends ${pool.roles.join(' and ')} work to queue ${pool.queue} (${pool.routes.join(', ')}), but a worker serves one role`, fix: 'route each role to a class of its own (resources)' };
}

/** The row of one pool: what its worker answered, or why no answer came (`result` absent: never probed). */
export function doctorRow(pool: DoctorPool, result: DoctorPoolResult | undefined, pollers: number): DoctorRow {
  const base = { pool: pool.pool, queue: pool.queue, role: pool.roles.join('+') };
  const conflict = roleConflict(pool);
  let checks: DoctorCheck[];
  let answered: { worker: string; seconds: number } | undefined;
  if (!result) {
    checks = [{ name: 'worker', ok: false, seen: `nobody polls queue ${pool.queue} (DescribeTaskQueue lists no poller)`, fix: startWorkers(pool) }];
  } else if (result.outcome.kind === 'answered') {
    checks = result.outcome.output.checks;
    answered = { worker: result.outcome.output.worker, seconds: result.outcome.output.seconds };
  } else if (result.outcome.kind === 'no_worker') {
    const listed = pollers > 0
      ? ` (DescribeTaskQueue still listed ${pollers} poller(s) seen in the last minutes: stopped or stuck)`
      : ' (DescribeTaskQueue listed no poller; a pool scaled to zero needs a --timeout-s long enough for a worker to start)';
    checks = [{ name: 'worker', ok: false, seen: `${result.outcome.message}${listed}`, fix: startWorkers(pool) }];
  } else {
    checks = [{ name: 'worker', ok: false, seen: result.outcome.message, fix: "read the worker's log; the probe is gpu-runners/hala_runners/doctor_probe.py" }];
  }
  if (conflict) checks = [conflict, ...checks];
  return { ...base, verdict: checks.every((c) => c.ok) ? 'ok' : 'FAIL', ...answered, checks };
}

/** 1 when any pool failed: a campaign on this cluster would stall or fail there. */
export const doctorExitCode = (rows: DoctorRow[]) => (rows.some((r) => r.verdict === 'FAIL') ? 1 : 0);

/** Whether every pool ran on CPU: the local stack, or a cluster without GPU nodes. */
const allCpu = (rows: DoctorRow[]) => rows.every((r) => r.checks.some((c) => c.name === 'gpus' && c.seen.startsWith('CPU pool')));

export function renderDoctor(recipe: string, rows: DoctorRow[], seconds: number): string {
  const width = (key: 'pool' | 'queue' | 'role') => Math.max(key.length, ...rows.map((r) => r[key].length));
  const [wp, wq, wr] = [width('pool'), width('queue'), width('role')];
  const lines = [`hala doctor ${recipe}: ${rows.length} pools, ${rows.filter((r) => r.verdict === 'FAIL').length} failing (${seconds.toFixed(1)} s)`, ''];
  lines.push(`${'POOL'.padEnd(wp)}  ${'QUEUE'.padEnd(wq)}  ${'ROLE'.padEnd(wr)}  VERDICT  WORKER`);
  for (const r of rows) {
    lines.push(`${r.pool.padEnd(wp)}  ${r.queue.padEnd(wq)}  ${r.role.padEnd(wr)}  ${r.verdict.padEnd(7)}  ${r.worker ? `${r.worker} (${r.seconds?.toFixed(1)} s)` : '-'}`);
    for (const c of r.checks) {
      lines.push(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(10)} ${c.seen}`);
      if (!c.ok && c.fix) lines.push(`         ${''.padEnd(10)} fix: ${c.fix}`);
    }
  }
  if (rows.length > 0 && allCpu(rows)) {
    lines.push('', 'Every pool is a CPU pool (no GPU): the local stack, or workers without GPUs. That is no failure where the classes ask for none.');
  }
  return lines.join('\n');
}
