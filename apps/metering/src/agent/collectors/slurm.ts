import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Decimal } from '@suanli/money';
import type { RawUsage } from '@suanli/units';
import { windowSeconds, type ActiveLease, type Collector, type Window } from '../types.js';

/** One job allocation of `sacct --json`, times in epoch seconds (`end` null while running). */
export interface SlurmAllocation {
  jobId: number;
  start: number;
  end: number | null;
  cpus: number;
  memMiB: number;
  gpus: number;
}

/** Slurm ≥ 23.02 wraps numbers as `{set, infinite, number}`; older versions write plain numbers. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'number' in v) {
    const o = v as { set?: boolean; number?: unknown };
    if (o.set !== false && typeof o.number === 'number') return o.number;
  }
  return 0;
}

interface SacctTres {
  type?: string;
  name?: string;
  count?: unknown;
}

/** Parses `sacct --json` into allocations; jobs that never started are left out. */
export function parseSacctJson(text: string): SlurmAllocation[] {
  const doc = JSON.parse(text) as { jobs?: unknown };
  if (!Array.isArray(doc.jobs)) throw new Error('sacct --json output has no jobs array');
  const out: SlurmAllocation[] = [];
  for (const j of doc.jobs as Record<string, unknown>[]) {
    const time = (j['time'] ?? {}) as Record<string, unknown>;
    const start = num(time['start']);
    if (start <= 0) continue;
    const end = num(time['end']);
    const allocated = ((j['tres'] as { allocated?: SacctTres[] } | undefined)?.allocated ??
      []) as SacctTres[];
    const tres = (pred: (t: SacctTres) => boolean) =>
      allocated.filter(pred).reduce((m, t) => Math.max(m, num(t.count)), 0);
    out.push({
      jobId: num(j['job_id']),
      start,
      end: end > 0 ? end : null,
      cpus: tres((t) => t.type === 'cpu'),
      memMiB: tres((t) => t.type === 'mem'),
      // "gpu" and "gpu:<type>" describe the same devices: take the largest, never the sum.
      gpus: tres(
        (t) => t.type === 'gres' && (t.name === 'gpu' || (t.name ?? '').startsWith('gpu:')),
      ),
    });
  }
  return out;
}

/**
 * Allocation-based usage of the jobs in a window (HPC queues bill what a job holds, not what it
 * burns): Σ overlap seconds × allocated CPUs, MiB / 1024 and GPUs. Running jobs count up to
 * the window's end.
 */
export function allocationUsage(
  jobs: SlurmAllocation[],
  window: Window,
  gpuModel: string | undefined,
): RawUsage {
  const ws = window.start.getTime() / 1000;
  const we = window.end.getTime() / 1000;
  let cpu = new Decimal(0);
  let mem = new Decimal(0);
  let gpu = new Decimal(0);
  for (const j of jobs) {
    const overlap = Math.min(j.end ?? we, we) - Math.max(j.start, ws);
    if (overlap <= 0) continue;
    cpu = cpu.plus(new Decimal(j.cpus).times(overlap));
    mem = mem.plus(new Decimal(j.memMiB).div(1024).times(overlap));
    gpu = gpu.plus(new Decimal(j.gpus).times(overlap));
  }
  const usage: RawUsage = {
    duration_s: String(windowSeconds(window)),
    cpu_core_s: cpu.toFixed(),
    mem_gib_s: mem.toFixed(),
  };
  if (gpuModel !== undefined) usage.acc_s = { [gpuModel]: gpu.toFixed() };
  return usage;
}

export interface SlurmOptions {
  /** The Slurm account whose jobs are the lease's usage. */
  account: (lease: ActiveLease) => string;
  /** Runs `sacct` with the arguments and returns its stdout. */
  run?: (args: string[]) => Promise<string>;
}

const execFileP = promisify(execFile);

/** Slurm collector: `sacct --json --allocations` of the lease's account over the window. */
export class SlurmCollector implements Collector {
  private readonly run: (args: string[]) => Promise<string>;

  constructor(private readonly options: SlurmOptions) {
    this.run =
      options.run ??
      (async (args) =>
        (await execFileP('sacct', args, { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 })).stdout);
  }

  static args(account: string, window: Window): string[] {
    const t = (d: Date) => d.toISOString().slice(0, 19);
    return [
      '--json',
      '--allocations',
      '--accounts',
      account,
      '--starttime',
      t(window.start),
      '--endtime',
      t(window.end),
    ];
  }

  async sample(lease: ActiveLease, window: Window): Promise<RawUsage> {
    const text = await this.run(SlurmCollector.args(this.options.account(lease), window));
    return allocationUsage(parseSacctJson(text), window, lease.spec.accel?.model);
  }
}
