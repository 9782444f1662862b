// How busy the machine was while a benchmark ran: timings on a shared machine mean little without it.
import os from 'node:os';

/** The 1-minute load average over the core count, e.g. `3.2 on 2 cores`. */
export function loadAverage(): string {
  return `${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;
}
