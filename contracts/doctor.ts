// `hala doctor`: the probe every worker serves to prove its pool before a campaign spends on it.
// The Python side is gpu-runners/hala_runners/doctor_probe.py; the CPU worker answers its own
// (activities/doctor-cpu.ts); workflows/doctor.ts runs them all and cli/doctor/ renders the rows.
import { z } from 'zod';
import { SourceUri, StoreUri } from './artifact';

/** What one check of a pool found; `fix` says what to change when it failed. */
export const DoctorCheck = z.object({
  name: z.enum(['worker', 'gpus', 'versions', 'all_reduce', 'engine', 'fp8', 'store', 'hub', 'scratch']),
  ok: z.boolean(),
  seen: z.string().describe('what the worker saw, in words'),
  fix: z.string().optional().describe('what to change; present when ok is false'),
  detail: z.record(z.string(), z.unknown()).optional().describe('the figures behind `seen` (versions, GPU list, timings)'),
});
export type DoctorCheck = z.infer<typeof DoctorCheck>;

/** What the pool's resource class promises each worker; absent for a role queue no class names. */
export const ExpectedGpus = z.object({
  gpus: z.number().int().nonnegative(),
  gpu_type: z.string().describe('"any" accepts every type'),
  gpu_memory_gb: z.number().positive().optional(),
});
export type ExpectedGpus = z.infer<typeof ExpectedGpus>;

export const HubSource = z.object({
  field: z.string().describe('the recipe path holding the id, named in a failure (stages.sft.students[0].base)'),
  id: SourceUri.describe('hf://org/name or hf://datasets/org/name/path, without the revision'),
  revision: z.string().optional().describe('the pinned revision; absent: main'),
});
export type HubSource = z.infer<typeof HubSource>;

export const DoctorProbeInput = z.object({
  pool: z.string().describe('the resource class, or the role when no class names the queue'),
  role: z.enum(['quantize', 'infer', 'train', 'eval']).describe('the role the recipe sends to this queue'),
  expected: ExpectedGpus.optional(),
  store_root: StoreUri,
  hub_sources: z.array(HubSource),
  scratch_needed_bytes: z.number().int().nonnegative(),
  scratch_basis: z.string().describe('how scratch_needed_bytes was derived, quoted in the row'),
  engine_model: SourceUri.optional().describe('infer pools: the small model the engine check starts'),
  fp8_model: SourceUri.optional().describe('infer / quantize pools: the model whose architecture (config and tokenizer only) a two-layer miniature takes, compressed to FP8 and loaded'),
});
export type DoctorProbeInput = z.infer<typeof DoctorProbeInput>;

export const DoctorProbeOutput = z.object({
  worker: z.string().describe('worker identity (pid@host)'),
  worker_role: z.string().describe('the role the answering worker serves'),
  checks: z.array(DoctorCheck),
  seconds: z.number().nonnegative(),
});
export type DoctorProbeOutput = z.infer<typeof DoctorProbeOutput>;

/** The CPU worker's own probe: the TypeScript side of the store and its scratch disk. */
export interface DoctorCpuProbeInput {
  store_root: string;
  scratch_needed_bytes: number;
  scratch_basis: string;
}

/** One pool's answer as the doctor workflow got it: the probe's output, or why none came. */
export type DoctorOutcome =
  | { kind: 'answered'; output: DoctorProbeOutput }
  | { kind: 'no_worker'; message: string }
  | { kind: 'failed'; message: string };

export interface DoctorPoolRequest {
  pool: string;
  queue: string;
  role: 'cpu' | DoctorProbeInput['role'];
  /** Absent for the cpu pool, which answers doctorCpuProbe. */
  probe?: DoctorProbeInput;
  cpu_probe?: DoctorCpuProbeInput;
}

export interface DoctorWorkflowInput {
  pools: DoctorPoolRequest[];
  /** How long a probe may wait for a worker to take it: past this its queue has nobody serving it. */
  schedule_to_start_s: number;
  /** How long one probe may run once a worker has it (EveryRoleActivityTable.doctor_probe). */
  probe_start_to_close_s: number;
}

export interface DoctorPoolResult {
  pool: string;
  queue: string;
  role: string;
  outcome: DoctorOutcome;
}
