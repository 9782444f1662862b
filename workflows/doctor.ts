// `hala doctor`'s workflow: the probe on every pool's queue at once, through the pool's real worker,
// each answer (or why none came) returned as it was. Started by cli/doctor/command.ts on the cpu queue.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import type { DoctorOutcome, DoctorPoolRequest, DoctorPoolResult, DoctorProbeInput, DoctorProbeOutput, DoctorWorkflowInput } from '../contracts/doctor';

type ProbeFn = (input: DoctorProbeInput) => Promise<DoctorProbeOutput>;

/** Each probe once (a failure is a fact to report), waiting at most `schedule_to_start_s` for a worker. */
function probeOn(pool: DoctorPoolRequest, input: DoctorWorkflowInput): Promise<DoctorProbeOutput> {
  const options: ActivityOptions = {
    taskQueue: pool.queue,
    scheduleToStartTimeout: input.schedule_to_start_s * 1000,
    startToCloseTimeout: input.probe_start_to_close_s * 1000,
    retry: { maximumAttempts: 1 },
  };
  if (pool.cpu_probe) return proxyActivities<Pick<CpuActivityFns, 'doctorCpuProbe'>>(options).doctorCpuProbe(pool.cpu_probe);
  const { doctor_probe } = proxyActivities<{ doctor_probe: ProbeFn }>(options);
  return doctor_probe(pool.probe!);
}

function outcomeOf(err: unknown, pool: DoctorPoolRequest, input: DoctorWorkflowInput): DoctorOutcome {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') {
    return { kind: 'no_worker', message: `no worker took the probe within ${input.schedule_to_start_s} s: nobody serves queue ${pool.queue}` };
  }
  const text = cause instanceof ApplicationFailure ? `${cause.type ?? 'Error'}: ${cause.message}` : (cause as Error)?.message ?? String(cause);
  return { kind: 'failed', message: `the probe failed on the worker: ${text}` };
}

export async function doctor(input: DoctorWorkflowInput): Promise<DoctorPoolResult[]> {
  return Promise.all(
    input.pools.map(async (pool): Promise<DoctorPoolResult> => {
      const { pool: name, queue, role } = pool;
      try {
        return { pool: name, queue, role, outcome: { kind: 'answered', output: await probeOn(pool, input) } };
      } catch (err) {
        return { pool: name, queue, role, outcome: outcomeOf(err, pool, input) };
      }
    }),
  );
}
