// The Python activities, declared for workflows: names and payload types, options from the table.
// Here in contracts/, not activities/, because workflow code imports it: it holds types and plain
// data only (no Node builtins), and workflows import nothing from activities/.
import type { ActivityOptions } from '@temporalio/common';
import type { z } from 'zod';
import { type ActivityRun, GpuActivityTable, type GpuActivityName } from './gpu-activities';
import { nonRetryableErrorTypes } from './errors';

type Row<N extends GpuActivityName> = (typeof GpuActivityTable)[N];

/**
 * Served by gpu-runners/hala_runners/activities.py under exactly these names, with the payloads on
 * the wire. The activity always attaches how it ran (`run`), which a runner CLI run alone leaves out.
 */
export type GpuActivityWire = {
  [N in GpuActivityName]: (input: z.infer<Row<N>['input']>) => Promise<z.infer<Row<N>['output']> & { run: ActivityRun }>;
};

/** What stage work calls: the wire functions without `supervision`, which the proxies fill in from the recipe. */
export type GpuActivityFns = {
  [N in GpuActivityName]: (input: Omit<Parameters<GpuActivityWire[N]>[0], 'supervision'>) => ReturnType<GpuActivityWire[N]>;
};

/** The proxy options of one activity; `heartbeatSeconds` overrides the table (recipe `timeouts.heartbeat_s`). */
export function gpuActivityOptions(name: GpuActivityName, taskQueue: string, heartbeatSeconds?: number): ActivityOptions {
  const row = GpuActivityTable[name];
  return {
    taskQueue,
    startToCloseTimeout: `${row.start_to_close_s}s`,
    heartbeatTimeout: `${heartbeatSeconds ?? row.heartbeat_s}s`,
    retry: {
      initialInterval: `${row.retry.initial_interval_s}s`,
      backoffCoefficient: row.retry.backoff_coefficient,
      maximumInterval: `${row.retry.maximum_interval_s}s`,
      maximumAttempts: row.retry.maximum_attempts,
      nonRetryableErrorTypes,
    },
  };
}
