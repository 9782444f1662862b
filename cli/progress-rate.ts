// Rate and ETA of a stage's work from successive heartbeat samples: heartbeats carry how much is
// done, not how fast, so the speed is the slope over the last minute of samples.
const windowMs = 60_000;

export interface Pace {
  /** Units per second over the window; undefined until two samples differ in time. */
  rate?: number;
  /** Seconds to `total` at that rate. */
  eta_s?: number;
}

export class ProgressRate {
  private readonly samples = new Map<string, { t: number; done: number; total: number }[]>();

  /** Record `done` of `total` for `key` at time `t` (ms), and return its pace. */
  sample(key: string, done: number, total: number, t: number): Pace {
    let list = this.samples.get(key) ?? [];
    // Less done, or another total: a retry restarted it, or another shard took over; count afresh.
    const last = list[list.length - 1];
    if (last && (done < last.done || total !== last.total)) list = [];
    list.push({ t, done, total });
    list = list.filter((s) => t - s.t <= windowMs);
    this.samples.set(key, list);
    const first = list[0]!;
    if (t <= first.t) return {};
    const rate = ((done - first.done) * 1000) / (t - first.t);
    return rate > 0 ? { rate, eta_s: Math.max(0, (total - done) / rate) } : { rate };
  }

  /** Forget keys no longer running, so a stage that runs again starts from a clean slate. */
  keep(keys: Set<string>): void {
    for (const key of this.samples.keys()) if (!keys.has(key)) this.samples.delete(key);
  }
}
