import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { computeUnits } from '@suanli/units';
import type { ActiveLease } from '../types.js';
import { CgroupV2Collector, parseCpuStat, parseMemoryCurrent } from './cgroup.js';
import {
  APPS_QUERY,
  GPU_QUERY,
  modelCode,
  numericCell,
  NvidiaSmiCollector,
  parseNvidiaCsv,
} from './nvidia.js';
import { SimulatorCollector, simulatedUtilization } from './simulator.js';
import { allocationUsage, parseSacctJson, SlurmCollector } from './slurm.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixture = (name: string) => readFile(join(fixtures, name), 'utf8');

const lease: ActiveLease = {
  leaseId: '6c1f2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  cri: 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U',
  class: 'AI',
  spec: { cpu: 12, memGiB: 192, accel: { count: 1, model: 'H200' } },
  slots: 8,
  startsAt: '2026-11-28T00:00:00Z',
  endsAt: '2026-11-29T00:00:00Z',
  catalogVersion: '2026.1',
};
const window = {
  start: new Date('2026-11-28T08:00:00Z'),
  end: new Date('2026-11-28T08:01:00Z'),
};

describe('SimulatorCollector', () => {
  it('scales the lease spec by slots, seconds and utilization, as decimal strings', async () => {
    const usage = await new SimulatorCollector({ utilization: () => '0.75' }).sample(lease, window);
    expect(usage).toEqual({
      duration_s: '60',
      cpu_core_s: '4320', // 12 × 8 × 60 × 0.75
      mem_gib_s: '69120', // 192 × 8 × 60 × 0.75
      acc_s: { H200: '360' }, // 1 × 8 × 60 × 0.75
    });
  });

  it('is deterministic per lease and window, between 0.50 and 0.99', async () => {
    const c = new SimulatorCollector();
    expect(await c.sample(lease, window)).toEqual(await c.sample(lease, window));
    const u = simulatedUtilization(lease, window);
    expect(u).toMatch(/^0\.(5|6|7|8|9)\d$/);
  });

  it('produces usage whose units compute with the lease catalog', async () => {
    const usage = await new SimulatorCollector({ utilization: () => '1' }).sample(lease, window);
    expect(computeUnits(usage, { catalog: '2026.1', class: 'AI' })).toEqual({
      'scu.ai': '0.131866667', // 480 × 989 / 3.6e6
      'scu.gen': '1.600000000',
      'mem.gib_h': '25.600000000',
    });
  });
});

describe('cgroup v2 parsing (recorded files)', () => {
  it('reads usage_usec from cpu.stat and bytes from memory.current', async () => {
    expect(parseCpuStat(await fixture('cgroup-t0/cpu.stat'))).toBe('8413579421');
    expect(parseMemoryCurrent(await fixture('cgroup-t0/memory.current'))).toBe('17179869184');
    expect(() => parseCpuStat('user_usec 1\n')).toThrow('usage_usec');
    expect(() => parseMemoryCurrent('max\n')).toThrow();
  });

  it('reports the cpu growth between samples scaled to the window, and memory held', async () => {
    let step = 0;
    const times = [0, 60_000, 90_000];
    const c = new CgroupV2Collector({
      cgroupDir: () => (step === 0 ? join(fixtures, 'cgroup-t0') : join(fixtures, 'cgroup-t1')),
      now: () => times[step],
    });
    const first = await c.sample(lease, window);
    expect(first).toEqual({
      duration_s: '60',
      cpu_core_s: '0.000000', // baseline only
      mem_gib_s: '960.000000', // 16 GiB × 60 s
    });
    step = 1;
    const second = await c.sample(lease, window);
    // 480 000 000 µs = 480 core-seconds in 60 s of wall time.
    expect(second).toEqual({
      duration_s: '60',
      cpu_core_s: '480.000000',
      mem_gib_s: '1920.000000',
    });
    step = 2; // same counters 30 s later: no growth
    expect((await c.sample(lease, window)).cpu_core_s).toBe('0.000000');
  });
});

describe('nvidia-smi parsing (recorded CSV)', () => {
  it('parses the CSV header units and cells', async () => {
    const rows = parseNvidiaCsv(await fixture('nvidia-smi-query-gpu.csv'));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({
      index: '0',
      name: 'NVIDIA H100 80GB HBM3',
      'utilization.gpu': '87 %',
    });
    expect(numericCell(rows[0]['utilization.gpu'])).toBe('87');
    expect(numericCell(rows[3]['utilization.gpu'])).toBeNull(); // [N/A]
    expect(parseNvidiaCsv(await fixture('nvidia-smi-query-compute-apps-empty.csv'))).toEqual([]);
  });

  it('maps GPU names to catalog model codes, longest code first', () => {
    expect(modelCode('NVIDIA H100 80GB HBM3')).toBe('H100');
    expect(modelCode('NVIDIA H200')).toBe('H200');
    expect(modelCode('NVIDIA H20')).toBe('H20');
    expect(modelCode('NVIDIA GeForce RTX 4090')).toBe('RTX4090');
    expect(modelCode('Tesla V100-SXM2-32GB')).toBe('V100');
    expect(modelCode('NVIDIA A800-SXM4-80GB')).toBe('A800');
    expect(modelCode('Matrox G200')).toBeNull();
  });

  const runner = (gpu: string, apps: string) => async (args: string[]) =>
    fixture(args[0] === GPU_QUERY[0] ? gpu : args[0] === APPS_QUERY[0] ? apps : 'none');

  it('counts busy GPUs by utilization, idle GPUs as zero', async () => {
    const c = new NvidiaSmiCollector({
      run: runner('nvidia-smi-query-gpu.csv', 'nvidia-smi-query-compute-apps.csv'),
    });
    // 60 × 0.87 + 60 × 1.00; GPU 2 has no process, GPU 3 reports [N/A].
    expect(await c.sample(lease, window)).toEqual({ duration_s: '60', acc_s: { H100: '112.200' } });
  });

  it('restricts to the lease GPUs and handles mixed models', async () => {
    const c = new NvidiaSmiCollector({
      run: runner('nvidia-smi-query-gpu-mixed.csv', 'nvidia-smi-query-compute-apps-mixed.csv'),
      gpuUuids: () => [
        'GPU-aaaaaaaa-0000-4000-8000-000000000001',
        'GPU-aaaaaaaa-0000-4000-8000-000000000002',
        'GPU-aaaaaaaa-0000-4000-8000-000000000003',
        'GPU-aaaaaaaa-0000-4000-8000-000000000004',
        'GPU-aaaaaaaa-0000-4000-8000-000000000005',
      ],
    });
    expect((await c.sample(lease, window)).acc_s).toEqual({
      H200: '30.000',
      H20: '15.000',
      RTX4090: '60.000',
      V100: '6.000',
    });
    const none = new NvidiaSmiCollector({
      run: runner('nvidia-smi-query-gpu.csv', 'nvidia-smi-query-compute-apps-empty.csv'),
    });
    expect((await none.sample(lease, window)).acc_s).toEqual({ H100: '0.000' });
  });
});

describe('Slurm sacct --json (recorded output)', () => {
  it('parses allocations, skipping jobs that never started', async () => {
    expect(parseSacctJson(await fixture('sacct.json'))).toEqual([
      { jobId: 4012, start: 1795852800, end: 1795854600, cpus: 32, memMiB: 262144, gpus: 4 },
      { jobId: 4013, start: 1795854000, end: null, cpus: 8, memMiB: 65536, gpus: 1 },
    ]);
    expect(() => parseSacctJson('{"meta":{}}')).toThrow('no jobs');
  });

  it('bills the allocations overlapping the window', async () => {
    // Window 1795854000..1795854600 (600 s): job 4012 holds all 600 s, job 4013 all 600 s.
    const w = { start: new Date(1795854000_000), end: new Date(1795854600_000) };
    const calls: string[][] = [];
    const c = new SlurmCollector({
      account: () => 'lease-22222222',
      run: async (args) => {
        calls.push(args);
        return fixture('sacct.json');
      },
    });
    const slurmLease = {
      ...lease,
      spec: { cpu: 64, memGiB: 512, accel: { count: 8, model: 'H100' } },
    };
    expect(await c.sample(slurmLease, w)).toEqual({
      duration_s: '600',
      cpu_core_s: '24000', // (32 + 8) × 600
      mem_gib_s: '192000', // (256 + 64) GiB × 600
      acc_s: { H100: '3000' }, // (4 + 1) × 600
    });
    expect(calls[0]).toEqual([
      '--json',
      '--allocations',
      '--accounts',
      'lease-22222222',
      '--starttime',
      '2026-11-28T08:20:00',
      '--endtime',
      '2026-11-28T08:30:00',
    ]);
    // A window before job 4013 started: only job 4012's share.
    const early = { start: new Date(1795853700_000), end: new Date(1795853760_000) };
    expect(allocationUsage(parseSacctJson(await fixture('sacct.json')), early, undefined)).toEqual({
      duration_s: '60',
      cpu_core_s: '1920',
      mem_gib_s: '15360',
    });
  });
});
