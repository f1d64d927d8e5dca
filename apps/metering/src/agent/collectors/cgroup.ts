import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Decimal, toFixedHalfEven } from '@suanli/money';
import type { RawUsage } from '@suanli/units';
import { windowSeconds, type ActiveLease, type Collector, type Window } from '../types.js';

/** `usage_usec` of a cgroup v2 `cpu.stat` file, as an integer string. */
export function parseCpuStat(text: string): string {
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === 'usage_usec' && value !== undefined && /^\d+$/.test(value)) return value;
  }
  throw new Error('cpu.stat has no usage_usec line');
}

/** Bytes of a cgroup v2 `memory.current` file, as an integer string. */
export function parseMemoryCurrent(text: string): string {
  const value = text.trim();
  if (!/^\d+$/.test(value)) throw new Error(`memory.current is not a byte count: ${value}`);
  return value;
}

const GIB = new Decimal(2).pow(30);

export interface CgroupV2Options {
  /** The cgroup directory of the lease's container, e.g. `/sys/fs/cgroup/system.slice/x.scope`. */
  cgroupDir: (lease: ActiveLease) => string;
  readText?: (path: string) => Promise<string>;
  now?: () => number;
}

/**
 * Linux cgroup v2 collector. CPU: the growth of `cpu.stat` usage_usec since the previous sample,
 * scaled to the window's length (the sampling instants jitter around the window bounds); the
 * first sample of a lease only records the baseline and reports 0. Memory: `memory.current`
 * at the sampling instant held for the whole window (GiB-seconds, 6 dp).
 */
export class CgroupV2Collector implements Collector {
  private readonly last = new Map<string, { usec: Decimal; at: number }>();
  private readonly readText: (path: string) => Promise<string>;
  private readonly now: () => number;

  constructor(private readonly options: CgroupV2Options) {
    this.readText = options.readText ?? ((p) => readFile(p, 'utf8'));
    this.now = options.now ?? Date.now;
  }

  async sample(lease: ActiveLease, window: Window): Promise<RawUsage> {
    const dir = this.options.cgroupDir(lease);
    const seconds = windowSeconds(window);
    const [cpuStat, memCurrent] = await Promise.all([
      this.readText(join(dir, 'cpu.stat')),
      this.readText(join(dir, 'memory.current')),
    ]);
    const usec = new Decimal(parseCpuStat(cpuStat));
    const at = this.now();
    const prev = this.last.get(lease.leaseId);
    this.last.set(lease.leaseId, { usec, at });

    let coreSeconds = new Decimal(0);
    if (prev !== undefined && at > prev.at) {
      // A counter that went down means the container restarted: count from zero.
      const delta = usec.gte(prev.usec) ? usec.minus(prev.usec) : usec;
      const elapsed = new Decimal(at - prev.at).div(1000);
      coreSeconds = delta.div(1_000_000).times(seconds).div(elapsed);
    }
    const memGiB = new Decimal(parseMemoryCurrent(memCurrent)).div(GIB);
    return {
      duration_s: String(seconds),
      cpu_core_s: toFixedHalfEven(coreSeconds, 6),
      mem_gib_s: toFixedHalfEven(memGiB.times(seconds), 6),
    };
  }
}
