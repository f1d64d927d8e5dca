import type { ComputeClass, RawUsage, SlotSpec } from '@suanli/units';

/** An active lease as `GET /v1/agents/me/leases` returns it. */
export interface ActiveLease {
  leaseId: string;
  cri: string;
  class: ComputeClass;
  spec: SlotSpec;
  slots: number;
  startsAt: string;
  endsAt: string;
  catalogVersion: string;
  /** The resource's CPU model, when the agent's configuration names one (rates `scu.gen`). */
  cpuModel?: string;
}

/** A half-open time window [start, end). */
export interface Window {
  start: Date;
  end: Date;
}

/** One lease's usage for one window: what `MeteringAgent.sendBatch` turns into an event. */
export interface UsageSample {
  lease: Pick<ActiveLease, 'leaseId' | 'cri' | 'class' | 'catalogVersion' | 'cpuModel'>;
  window: Window;
  usage: RawUsage;
}

/** Where an agent's usage comes from. */
export interface Collector {
  sample(lease: ActiveLease, window: Window): Promise<RawUsage>;
}

export function windowSeconds(w: Window): number {
  return Math.round((w.end.getTime() - w.start.getTime()) / 1000);
}
