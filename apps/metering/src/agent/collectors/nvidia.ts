import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Decimal, toFixedHalfEven } from '@suanli/money';
import { CURRENT_CATALOG, getCatalog, type RawUsage } from '@suanli/units';
import { windowSeconds, type ActiveLease, type Collector, type Window } from '../types.js';

export const GPU_QUERY = [
  '--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total',
  '--format=csv',
];
export const APPS_QUERY = [
  '--query-compute-apps=pid,process_name,gpu_uuid,used_gpu_memory',
  '--format=csv',
];

/** Parses `nvidia-smi --query-… --format=csv` output into rows keyed by the header's names. */
export function parseNvidiaCsv(text: string): Record<string, string>[] {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) return [];
  // "utilization.gpu [%]" → "utilization.gpu"
  const header = lines[0].split(',').map((h) => h.trim().replace(/\s*\[.*\]$/, ''));
  return lines.slice(1).map((line) => {
    const cells = line.split(',').map((c) => c.trim());
    const row: Record<string, string> = {};
    header.forEach((h, i) => (row[h] = cells[i] ?? ''));
    return row;
  });
}

/** "87 %" → "87"; "[N/A]", "N/A" or anything else non-numeric → null. */
export function numericCell(cell: string | undefined): string | null {
  const m = /^(\d+(?:\.\d+)?)(?:\s*(?:%|MiB|W))?$/.exec((cell ?? '').trim());
  return m ? m[1] : null;
}

/** The catalog model code of a GPU name ("NVIDIA H100 80GB HBM3" → "H100"), or null. */
export function modelCode(
  gpuName: string,
  catalogVersion: string = CURRENT_CATALOG,
): string | null {
  const squashed = gpuName.toUpperCase().replace(/[\s_-]+/g, '');
  const codes = Object.keys(getCatalog(catalogVersion).accelerators).sort(
    (a, b) => b.length - a.length,
  );
  return codes.find((c) => squashed.includes(c)) ?? null;
}

export interface GpuReading {
  uuid: string;
  model: string | null;
  utilization: string | null;
  busy: boolean;
}

/** Joins the GPU and compute-app queries: which GPU runs a compute process, at what utilization. */
export function readGpus(gpuCsv: string, appsCsv: string, catalogVersion?: string): GpuReading[] {
  const busyUuids = new Set(parseNvidiaCsv(appsCsv).map((r) => r['gpu_uuid']));
  return parseNvidiaCsv(gpuCsv).map((r) => ({
    uuid: r['uuid'],
    model: modelCode(r['name'] ?? '', catalogVersion),
    utilization: numericCell(r['utilization.gpu']),
    busy: busyUuids.has(r['uuid']),
  }));
}

/**
 * Accelerator-seconds of a window: Σ over the lease's GPUs that run a compute process of
 * seconds × utilization.gpu / 100 (3 dp). Idle GPUs (no compute process) count 0.
 */
export function accSeconds(gpus: GpuReading[], seconds: number): Record<string, string> {
  const out: Record<string, Decimal> = {};
  for (const g of gpus) {
    if (g.model === null) continue;
    const util = g.busy && g.utilization !== null ? new Decimal(g.utilization) : new Decimal(0);
    out[g.model] = (out[g.model] ?? new Decimal(0)).plus(util.div(100).times(seconds));
  }
  const result: Record<string, string> = {};
  for (const [m, v] of Object.entries(out)) result[m] = toFixedHalfEven(v, 3);
  return result;
}

export interface NvidiaSmiOptions {
  /** The GPU UUIDs given to the lease; all GPUs of the host when absent. */
  gpuUuids?: (lease: ActiveLease) => string[] | undefined;
  /** Runs `nvidia-smi` with the arguments and returns its stdout. */
  run?: (args: string[]) => Promise<string>;
}

const execFileP = promisify(execFile);

/** NVIDIA collector: `nvidia-smi --query-gpu` and `--query-compute-apps`, CSV. */
export class NvidiaSmiCollector implements Collector {
  private readonly run: (args: string[]) => Promise<string>;

  constructor(private readonly options: NvidiaSmiOptions = {}) {
    this.run =
      options.run ??
      (async (args) => (await execFileP('nvidia-smi', args, { timeout: 10_000 })).stdout);
  }

  async sample(lease: ActiveLease, window: Window): Promise<RawUsage> {
    const [gpuCsv, appsCsv] = await Promise.all([this.run(GPU_QUERY), this.run(APPS_QUERY)]);
    const wanted = this.options.gpuUuids?.(lease);
    const gpus = readGpus(gpuCsv, appsCsv, lease.catalogVersion).filter(
      (g) => wanted === undefined || wanted.includes(g.uuid),
    );
    const seconds = windowSeconds(window);
    return { duration_s: String(seconds), acc_s: accSeconds(gpus, seconds) };
  }
}
