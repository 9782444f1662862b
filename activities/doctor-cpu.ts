// `hala doctor`'s probe of the CPU pool: the TypeScript worker's own view of the store and its disk.
// The doctor workflow running at all proves the worker polls the cpu queue and runs workflows.
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DoctorCheck, DoctorCpuProbeInput, DoctorProbeOutput } from '../contracts/doctor';
import type { ArtifactStore } from './store';

const GB = 1e9;

export interface DoctorCpuDeps {
  /** The store of a campaign root, as the worker opens it (file:// or s3:// with its credentials). */
  openStore: (root: string) => ArtifactStore;
}

const firstLine = (err: unknown) => String((err as Error).message ?? err).split('\n')[0];

/** Write, read back and delete one small object below the root, as a stage's manifests are written. */
export async function storeRoundTrip(open: DoctorCpuDeps['openStore'], root: string): Promise<DoctorCheck> {
  const fix = `give the cpu workers write access to the store ${root}: ${root.startsWith('file://') ? 'a writable volume mounted at that path' : 'credentials allowed s3:PutObject, s3:GetObject and s3:DeleteObject there'}`;
  let step = 'open';
  let uri = root;
  try {
    const store = open(root);
    uri = store.uri('doctor', `probe-cpu-${os.hostname()}-${process.pid}-${Date.now()}.txt`);
    const payload = `hala doctor ${Math.random()}`;
    step = 'write';
    await store.putBytes(uri, payload);
    step = 'read';
    const back = (await store.getBytes(uri)).toString('utf8');
    if (back !== payload) return { name: 'store', ok: false, seen: `store ${root}: read back other bytes than written at ${uri}`, fix };
    step = 'delete';
    await store.remove(uri);
    return { name: 'store', ok: true, seen: `store ${root}: write, read back and delete of a ${payload.length}-byte object ok` };
  } catch (err) {
    return { name: 'store', ok: false, seen: `store ${root}: ${step} of ${uri} failed (${firstLine(err)})`, fix, detail: { uri, step } };
  }
}

/** Free disk where the worker keeps its temporary files (DuckDB spills, downloads), against the plan. */
export async function scratchSpace(input: DoctorCpuProbeInput): Promise<DoctorCheck> {
  const dir = process.env.HALA_WORK_DIR ?? os.tmpdir();
  // Created on first use: its parent's disk is the one it will be on.
  const stats = await statfs(path.resolve(dir)).catch(() => statfs(path.dirname(path.resolve(dir))));
  const free = Number(stats.bavail) * Number(stats.bsize);
  const ok = free >= input.scratch_needed_bytes;
  return {
    name: 'scratch',
    ok,
    seen: `${(free / GB).toFixed(1)} GB free at ${dir}; the pool needs ~${(input.scratch_needed_bytes / GB).toFixed(1)} GB (${input.scratch_basis})`,
    ...(ok ? {} : { fix: `give the cpu workers at least ${Math.ceil(input.scratch_needed_bytes / GB)} GB of scratch at HALA_WORK_DIR (or TMPDIR)` }),
    detail: { free_bytes: free, needed_bytes: input.scratch_needed_bytes, directory: dir },
  };
}

export function createDoctorCpuActivities(deps: DoctorCpuDeps) {
  return {
    async doctorCpuProbe(input: DoctorCpuProbeInput): Promise<DoctorProbeOutput> {
      const started = Date.now();
      const checks: DoctorCheck[] = [
        { name: 'worker', ok: true, seen: `the TypeScript cpu worker ran the doctor workflow and this probe (node ${process.version})` },
        { name: 'gpus', ok: true, seen: 'CPU pool (no GPU)' },
        await storeRoundTrip(deps.openStore, input.store_root),
        await scratchSpace(input),
      ];
      return { worker: `${process.pid}@${os.hostname()}`, worker_role: 'cpu', checks, seconds: (Date.now() - started) / 1000 };
    },
  };
}
