import { createHash } from 'node:crypto';
import { Decimal } from '@suanli/money';
import type { RawUsage } from '@suanli/units';
import { windowSeconds, type ActiveLease, type Collector, type Window } from '../types.js';

export interface SimulatorOptions {
  /**
   * Utilization in [0, 1] as a decimal string. Default: derived from a hash of the lease id and
   * the window start, between 0.50 and 0.99: the same lease and window always give the same usage.
   */
  utilization?: (lease: ActiveLease, window: Window) => string;
}

/** Deterministic utilization of a lease in a window: "0.50" … "0.99". */
export function simulatedUtilization(lease: ActiveLease, window: Window): string {
  const h = createHash('sha256').update(`${lease.leaseId}|${window.start.toISOString()}`).digest();
  const pct = 50 + (h[0] % 50);
  return new Decimal(pct).div(100).toFixed(2);
}

/**
 * Usage of a fully allocated lease at some utilization, for demos and load tests:
 * acc_s = count × slots × seconds × u, cpu_core_s = cpu × slots × seconds × u,
 * mem_gib_s = memGiB × slots × seconds × u.
 */
export class SimulatorCollector implements Collector {
  constructor(private readonly options: SimulatorOptions = {}) {}

  async sample(lease: ActiveLease, window: Window): Promise<RawUsage> {
    const seconds = windowSeconds(window);
    const u = new Decimal((this.options.utilization ?? simulatedUtilization)(lease, window));
    const base = new Decimal(lease.slots).times(seconds).times(u);
    const usage: RawUsage = { duration_s: String(seconds) };
    if (lease.spec.cpu !== undefined) usage.cpu_core_s = base.times(lease.spec.cpu).toFixed();
    if (lease.spec.memGiB !== undefined) usage.mem_gib_s = base.times(lease.spec.memGiB).toFixed();
    if (lease.spec.accel !== undefined) {
      usage.acc_s = { [lease.spec.accel.model]: base.times(lease.spec.accel.count).toFixed() };
    }
    return usage;
  }
}
