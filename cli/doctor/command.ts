// `hala doctor <recipe>`: prove every pool the recipe routes to through its real worker, before a
// campaign spends on it. Asks who polls each queue, then runs the doctor workflow on the cpu queue,
// which probes every polled pool at once; renders one row per pool. Exit 1 when any pool fails.
import type { Client } from '@temporalio/client';
import type { DoctorPoolRequest, DoctorPoolResult, DoctorProbeInput, HubSource } from '../../contracts/doctor';
import { EveryRoleActivityTable } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { normalizeRootUri } from '../../activities/store';
import { repoRoot } from '../../platform/python-env';
import { queueWorkers } from '../../platform/task-queue-pollers';
import { planCampaign } from '../plan/estimate';
import { measureLocalSources } from '../plan/measure';
import { recipeHubSources, recipePools, type DoctorPool } from './pools';
import { doctorExitCode, doctorRow, renderDoctor, type DoctorRow } from './render';
import { scratchNeed } from './scratch';

export interface DoctorFlags {
  json?: boolean;
  timeoutS: string;
  store?: string;
}

/** The probe request of one pool: what its class promises, the store, the sources, the scratch, the models. */
function requestFor(recipe: Recipe, pool: DoctorPool, storeRoot: string, hubSources: HubSource[], scratch: { bytes: number; basis: string }): DoctorPoolRequest {
  const role = pool.roles[0]!;
  if (role === 'cpu') return { pool: pool.pool, queue: pool.queue, role, cpu_probe: { store_root: storeRoot, scratch_needed_bytes: scratch.bytes, scratch_basis: scratch.basis } };
  const probe: DoctorProbeInput = {
    pool: pool.pool,
    role,
    ...(pool.expected ? { expected: pool.expected } : {}),
    store_root: storeRoot,
    hub_sources: hubSources,
    scratch_needed_bytes: scratch.bytes,
    scratch_basis: scratch.basis,
    // The translator's base: the smallest model an infer pool serves in every recipe.
    ...(role === 'infer' ? { engine_model: recipe.stages.train_translator.base } : {}),
    // The teacher's architecture is what the quantize pool compresses and the infer pool loads in FP8.
    ...(role === 'infer' || role === 'quantize' ? { fp8_model: recipe.inputs.teacher } : {}),
  };
  return { pool: pool.pool, queue: pool.queue, role, probe };
}

export async function doctorCommand(file: string, recipe: Recipe, client: Client, namespace: string, flags: DoctorFlags): Promise<number> {
  const started = Date.now();
  const timeoutS = Number(flags.timeoutS);
  const storeRoot = normalizeRootUri(flags.store ?? recipe.store.root, repoRoot);
  const pools = recipePools(recipe);
  const polled = await queueWorkers(client, namespace, Object.fromEntries(pools.map((p) => [p.roles[0] === 'cpu' ? 'cpu' : p.queue, p.queue])));
  const pollersOf = (queue: string) => polled.find((q) => q.queue === queue)?.pollers.length ?? 0;
  const cpu = pools.find((p) => p.roles.includes('cpu'))!;
  if (pollersOf(cpu.queue) === 0) {
    console.error(`hala doctor: nobody polls the cpu queue ${cpu.queue}, which runs the doctor workflow itself; nothing was started. Start the cpu worker (hala up, or npx tsx workers/cpu-worker.ts --task-queue ${cpu.queue}) and run hala doctor again.`);
    return 1;
  }
  const measured = await measureLocalSources(recipe);
  const plan = await planCampaign(recipe, measured);
  const hubSources = await recipeHubSources(recipe);
  // Unpolled queues are probed too: a pool KEDA scaled to zero wakes on the probe's backlog, and
  // the probe's scheduleToStart timeout bounds the wait for one that never does.
  const probed = pools.filter((p) => p.roles.length === 1);
  const results: DoctorPoolResult[] = await client.workflow.execute('doctor', {
    taskQueue: cpu.queue,
    workflowId: `hala-doctor-${recipe.name}-${Date.now()}`,
    args: [{ pools: probed.map((p) => requestFor(recipe, p, storeRoot, hubSources, scratchNeed(recipe, p, measured, plan))), schedule_to_start_s: timeoutS, probe_start_to_close_s: EveryRoleActivityTable.doctor_probe.start_to_close_s }],
    // Bounded even if the workflow itself were never picked up: each probe's own bounds, plus slack.
    workflowExecutionTimeout: (timeoutS + EveryRoleActivityTable.doctor_probe.start_to_close_s + 60) * 1000,
  });
  const rows: DoctorRow[] = pools.map((p) => doctorRow(p, results.find((r) => r.queue === p.queue), pollersOf(p.queue)));
  const seconds = (Date.now() - started) / 1000;
  console.log(flags.json ? JSON.stringify({ recipe: file, store_root: storeRoot, seconds, pools: rows }, null, 2) : renderDoctor(file, rows, seconds));
  return doctorExitCode(rows);
}
