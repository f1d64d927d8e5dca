import { describe, expect, it } from '@jest/globals';
import { Decimal } from '@suanli/money';
import fc from 'fast-check';
import {
  CATALOG_VERSIONS,
  computeUnits,
  CURRENT_CATALOG,
  getCatalog,
  isAcceleratorModel,
  maxUnitsPerSlotHour,
  UNIT_CODES,
  UnitsError,
  unitsMatch,
  type ComputeClass,
  type RawUsage,
  type UnitCode,
  type UnitsContext,
} from './index.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof UnitsError ? e.code : `not a UnitsError: ${String(e)}`;
  }
  return undefined;
}

const AI: UnitsContext = { catalog: '2026.1', class: 'AI' };
const GEN: UnitsContext = { catalog: '2026.1', class: 'GEN' };
const HPC: UnitsContext = { catalog: '2026.1', class: 'HPC' };

describe('catalog', () => {
  it('has the unit codes of docs/units.md', () => {
    expect(UNIT_CODES).toEqual([
      'scu.ai',
      'scu.hpc',
      'scu.gen',
      'mem.gib_h',
      'sto.gib_h',
      'net.egress_gib',
      'api.call',
    ]);
  });

  it('publishes 2026.1 as the current version', () => {
    expect(CURRENT_CATALOG).toBe('2026.1');
    expect(CATALOG_VERSIONS).toContain(CURRENT_CATALOG);
    expect(getCatalog('2026.1').version).toBe('2026.1');
  });

  it('rejects unknown versions', () => {
    expect(code(() => getCatalog('2025.9'))).toBe('unknown_catalog');
    expect(code(() => computeUnits({ duration_s: '60' }, { ...AI, catalog: 'x' }))).toBe(
      'unknown_catalog',
    );
    expect(code(() => getCatalog('constructor'))).toBe('unknown_catalog');
  });

  it('has the accelerator rows of docs/units.md exactly', () => {
    expect(getCatalog('2026.1').accelerators).toEqual({
      H200: { fp16Tflops: '989', fp64Tflops: '34' },
      H100: { fp16Tflops: '989', fp64Tflops: '34' },
      H20: { fp16Tflops: '148', fp64Tflops: '1' },
      A100: { fp16Tflops: '312', fp64Tflops: '9.7' },
      A800: { fp16Tflops: '312', fp64Tflops: '9.7' },
      L40S: { fp16Tflops: '362', fp64Tflops: '1.4' },
      RTX4090: { fp16Tflops: '165', fp64Tflops: '1.3' },
      MI300X: { fp16Tflops: '1307', fp64Tflops: '81.7' },
      '910B': { fp16Tflops: '320', fp64Tflops: '0' },
      V100: { fp16Tflops: '125', fp64Tflops: '7.8' },
    });
    expect(getCatalog('2026.1').cpuFactor).toBe('1.0');
    expect(getCatalog('2026.1').fp64GflopsPerCore).toBe('40');
  });

  it('is frozen', () => {
    const c = getCatalog('2026.1');
    expect(Object.isFrozen(c) && Object.isFrozen(c.accelerators)).toBe(true);
    expect(Object.isFrozen(c.accelerators['H200'])).toBe(true);
  });

  it('knows accelerator models', () => {
    expect(isAcceleratorModel('H200', '2026.1')).toBe(true);
    expect(isAcceleratorModel('910B')).toBe(true);
    expect(isAcceleratorModel('h200', '2026.1')).toBe(false);
    expect(isAcceleratorModel('B200', '2026.1')).toBe(false);
    expect(isAcceleratorModel('toString', '2026.1')).toBe(false);
  });
});

describe('computeUnits', () => {
  it('reproduces the usage batch example of docs/metering.md exactly', () => {
    const usage: RawUsage = {
      duration_s: '60',
      cpu_core_s: '5760',
      mem_gib_s: '92160',
      acc_s: { H200: '480' },
      egress_bytes: '0',
    };
    const units = computeUnits(usage, AI);
    expect(units).toEqual({
      'scu.ai': '0.131866667',
      'scu.gen': '1.600000000',
      'mem.gib_h': '25.600000000',
    });
    expect(JSON.stringify(units)).toBe(
      '{"scu.ai":"0.131866667","scu.gen":"1.600000000","mem.gib_h":"25.600000000"}',
    );
  });

  it('rates accelerators as scu.ai for GEN too', () => {
    expect(computeUnits({ duration_s: '60', acc_s: { H200: '480' } }, GEN)).toEqual({
      'scu.ai': '0.131866667',
    });
  });

  it('rates HPC in FP64 TFLOP-hours, accelerators plus cores', () => {
    // 480 × 34 / 3600 = 4.533333333…; 5760 × 40 / 1000 / 3600 = 0.064; total 4.597333333…
    expect(
      computeUnits(
        { duration_s: '60', acc_s: { H200: '480' }, cpu_core_s: '5760', mem_gib_s: '92160' },
        HPC,
      ),
    ).toEqual({ 'scu.hpc': '4.597333333', 'mem.gib_h': '25.600000000' });
    expect(computeUnits({ duration_s: '3600', cpu_core_s: '3600' }, HPC)).toEqual({
      'scu.hpc': '0.040000000',
    });
    expect(computeUnits({ duration_s: '3600', acc_s: { A100: '3600' } }, HPC)).toEqual({
      'scu.hpc': '9.700000000',
    });
  });

  it('sums several accelerator models before rounding', () => {
    // (1 × 989 + 1 × 312) / 3 600 000 = 0.000361388…
    expect(computeUnits({ duration_s: '1', acc_s: { H100: '1', A800: '1' } }, AI)).toEqual({
      'scu.ai': '0.000361389',
    });
  });

  it('omits a unit rated zero (910B has no FP64)', () => {
    expect(computeUnits({ duration_s: '60', acc_s: { '910B': '60' } }, HPC)).toEqual({});
    expect(computeUnits({ duration_s: '60', acc_s: { '910B': '60' } }, AI)).toEqual({
      'scu.ai': '0.005333333',
    });
  });

  it('converts memory, storage, egress and API calls', () => {
    expect(
      computeUnits(
        {
          duration_s: '60',
          mem_gib_s: '1',
          sto_gib_s: '7200',
          egress_bytes: String(2 ** 30 * 3),
          api_calls: '17',
        },
        { catalog: '2026.1', class: 'GEN' },
      ),
    ).toEqual({
      'mem.gib_h': '0.000277778',
      'sto.gib_h': '2.000000000',
      'net.egress_gib': '3.000000000',
      'api.call': '17.000000000',
    });
    expect(computeUnits({ duration_s: '1', egress_bytes: '1' }, GEN)).toEqual({
      'net.egress_gib': '0.000000001',
    });
  });

  it('omits absent and zero sources', () => {
    expect(
      computeUnits(
        {
          duration_s: '60',
          cpu_core_s: '0',
          mem_gib_s: '0.000',
          acc_s: { H200: '0' },
          sto_gib_s: '0',
          egress_bytes: '0',
          api_calls: '0',
        },
        AI,
      ),
    ).toEqual({});
    expect(computeUnits({ duration_s: '0' }, HPC)).toEqual({});
  });

  it('uses half-even at the 9th place', () => {
    // 0.0000000045 h → 0.000000004 (tie to even); 0.0000000135 → 0.000000014
    expect(computeUnits({ duration_s: '1', mem_gib_s: '0.0000162' }, AI)).toEqual({
      'mem.gib_h': '0.000000004',
    });
    expect(computeUnits({ duration_s: '1', mem_gib_s: '0.0000486' }, AI)).toEqual({
      'mem.gib_h': '0.000000014',
    });
  });

  it('rejects unknown accelerator models, even at zero seconds', () => {
    expect(code(() => computeUnits({ duration_s: '1', acc_s: { B300: '1' } }, AI))).toBe(
      'unknown_model',
    );
    expect(code(() => computeUnits({ duration_s: '1', acc_s: { h200: '0' } }, AI))).toBe(
      'unknown_model',
    );
    const proto = JSON.parse('{"__proto__":"1"}') as Record<string, string>;
    expect(code(() => computeUnits({ duration_s: '1', acc_s: proto }, AI))).toBe('unknown_model');
    expect(code(() => computeUnits({ duration_s: '1', acc_s: { toString: '1' } }, AI))).toBe(
      'unknown_model',
    );
  });

  it('rejects malformed quantities and contexts', () => {
    const bad: unknown[] = ['-1', '1e3', '', 'NaN', 1.5, ' 1'];
    for (const v of bad) {
      expect(code(() => computeUnits({ duration_s: '1', cpu_core_s: v as string }, AI))).toBe(
        'invalid_usage',
      );
      expect(code(() => computeUnits({ duration_s: '1', acc_s: { H200: v as string } }, AI))).toBe(
        'invalid_usage',
      );
    }
    expect(code(() => computeUnits({} as RawUsage, AI))).toBe('invalid_usage');
    expect(code(() => computeUnits({ duration_s: '1', acc_s: [] as never }, AI))).toBe(
      'invalid_usage',
    );
    expect(
      code(() => computeUnits({ duration_s: '1' }, { catalog: '2026.1', class: 'ai' as never })),
    ).toBe('invalid_context');
  });
});

const qty = fc
  .tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 999 }))
  .map(([i, f]) => `${i}.${String(f).padStart(3, '0')}`);
const optQty = fc.option(qty, { nil: undefined });
const model = fc.constantFrom(...Object.keys(getCatalog('2026.1').accelerators));
const usageArb: fc.Arbitrary<RawUsage> = fc
  .record({
    cpu_core_s: optQty,
    mem_gib_s: optQty,
    sto_gib_s: optQty,
    egress_bytes: optQty,
    api_calls: optQty,
    acc_s: fc.option(fc.dictionary(model, qty, { maxKeys: 3 }), { nil: undefined }),
  })
  .map((u) => {
    const out: RawUsage = { duration_s: '60' };
    for (const [k, v] of Object.entries(u)) {
      if (v !== undefined) (out as Record<string, unknown>)[k] = v;
    }
    return out;
  });
const ctxArb: fc.Arbitrary<UnitsContext> = fc
  .constantFrom<ComputeClass>('GEN', 'AI', 'HPC')
  .map((c) => ({ catalog: '2026.1', class: c }));

function addUsage(a: RawUsage, b: RawUsage): RawUsage {
  const sum = (x?: string, y?: string): string | undefined =>
    x === undefined && y === undefined ? undefined : new Decimal(x ?? '0').plus(y ?? '0').toFixed();
  const out: RawUsage = { duration_s: sum(a.duration_s, b.duration_s) as string };
  for (const k of ['cpu_core_s', 'mem_gib_s', 'sto_gib_s', 'egress_bytes', 'api_calls'] as const) {
    const v = sum(a[k], b[k]);
    if (v !== undefined) out[k] = v;
  }
  if (a.acc_s !== undefined || b.acc_s !== undefined) {
    const acc: Record<string, string> = { ...a.acc_s };
    for (const [m, s] of Object.entries(b.acc_s ?? {})) acc[m] = sum(acc[m], s) as string;
    out.acc_s = acc;
  }
  return out;
}

function value(units: Partial<Record<UnitCode, string>>, code: UnitCode): Decimal {
  return new Decimal(units[code] ?? '0');
}

describe('computeUnits properties', () => {
  it('every unit is a 9-dp string, in catalog order, never zero-sourced', () => {
    fc.assert(
      fc.property(usageArb, ctxArb, (usage, ctx) => {
        const units = computeUnits(usage, ctx);
        const keys = Object.keys(units);
        expect(keys).toEqual(UNIT_CODES.filter((c) => keys.includes(c)));
        for (const v of Object.values(units)) expect(v).toMatch(/^\d+\.\d{9}$/);
        if (ctx.class === 'HPC') expect(units['scu.ai'] ?? units['scu.gen']).toBeUndefined();
        else expect(units['scu.hpc']).toBeUndefined();
      }),
    );
  });

  it('is monotone: more usage never gives fewer units', () => {
    fc.assert(
      fc.property(usageArb, usageArb, ctxArb, (a, extra, ctx) => {
        const before = computeUnits(a, ctx);
        const after = computeUnits(addUsage(a, extra), ctx);
        for (const c of UNIT_CODES) expect(value(after, c).gte(value(before, c))).toBe(true);
      }),
    );
  });

  it('is additive within rounding: units(a + b) ≈ units(a) + units(b)', () => {
    const tolerance = new Decimal('0.0000000015'); // three half-units of the 9th place
    fc.assert(
      fc.property(usageArb, usageArb, ctxArb, (a, b, ctx) => {
        const ua = computeUnits(a, ctx);
        const ub = computeUnits(b, ctx);
        const uab = computeUnits(addUsage(a, b), ctx);
        for (const c of UNIT_CODES) {
          const diff = value(uab, c).minus(value(ua, c)).minus(value(ub, c)).abs();
          expect(diff.lte(tolerance)).toBe(true);
        }
      }),
    );
  });

  it('throws only UnitsError on arbitrary input', () => {
    const field = fc.oneof(
      qty,
      fc.string(),
      fc.double(),
      fc.constant(undefined),
      fc.constant(null),
    );
    const junk = fc.record({
      duration_s: field,
      cpu_core_s: field,
      mem_gib_s: field,
      acc_s: fc.oneof(field, fc.dictionary(fc.oneof(model, fc.string()), field)),
      egress_bytes: field,
    });
    fc.assert(
      fc.property(junk, ctxArb, (usage, ctx) => {
        try {
          computeUnits(usage as unknown as RawUsage, ctx);
        } catch (e) {
          expect(e).toBeInstanceOf(UnitsError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('matches itself', () => {
    fc.assert(
      fc.property(usageArb, ctxArb, (usage, ctx) => {
        expect(unitsMatch(computeUnits(usage, ctx), computeUnits(usage, ctx))).toBe(true);
      }),
    );
  });
});

describe('unitsMatch', () => {
  const ref = { 'scu.ai': '0.131866667', 'mem.gib_h': '25.600000000' };

  it('accepts differences up to 1e-9 and other spellings', () => {
    expect(unitsMatch(ref, { 'mem.gib_h': '25.6', 'scu.ai': '0.131866666' })).toBe(true);
    expect(unitsMatch(ref, { 'scu.ai': '0.131866668', 'mem.gib_h': '25.600000001' })).toBe(true);
    expect(unitsMatch(ref, { 'scu.ai': '0.1318666665', 'mem.gib_h': '25.6' })).toBe(true);
    expect(unitsMatch({}, {})).toBe(true);
    expect(unitsMatch({ 'scu.ai': undefined }, {})).toBe(true);
  });

  it('rejects bigger differences, other keys and malformed values', () => {
    expect(unitsMatch(ref, { 'scu.ai': '0.131866669', 'mem.gib_h': '25.6' })).toBe(false);
    expect(unitsMatch(ref, { 'scu.ai': '0.131866667' })).toBe(false);
    expect(unitsMatch(ref, { ...ref, 'scu.gen': '0' })).toBe(false);
    expect(unitsMatch(ref, { 'scu.ai': '0.131866667', 'sto.gib_h': '25.6' })).toBe(false);
    expect(unitsMatch(ref, { 'scu.ai': 'NaN', 'mem.gib_h': '25.6' })).toBe(false);
    expect(unitsMatch(ref, { 'scu.ai': 0.131866667 as never, 'mem.gib_h': '25.6' })).toBe(false);
  });
});

describe('maxUnitsPerSlotHour', () => {
  const spec = { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' }, storageGiB: 500 };

  it('is one full hour of every resource in the spec', () => {
    expect(maxUnitsPerSlotHour(spec, 'scu.ai', AI)).toBe('7.912000000'); // 8 × 989 / 1000
    expect(maxUnitsPerSlotHour(spec, 'scu.gen', AI)).toBe('96.000000000');
    expect(maxUnitsPerSlotHour(spec, 'mem.gib_h', AI)).toBe('1536.000000000');
    expect(maxUnitsPerSlotHour(spec, 'sto.gib_h', AI)).toBe('500.000000000');
    expect(maxUnitsPerSlotHour(spec, 'scu.hpc', AI)).toBe('0.000000000');
    // 8 × 34 + 96 × 40 / 1000 = 275.84
    expect(maxUnitsPerSlotHour(spec, 'scu.hpc', HPC)).toBe('275.840000000');
    expect(maxUnitsPerSlotHour(spec, 'scu.ai', HPC)).toBe('0.000000000');
  });

  it('rounds up', () => {
    // 1 Gbit/s × 3600 s = 450e9 B = 419.0951585769653… GiB
    expect(maxUnitsPerSlotHour({ netGbps: 1 }, 'net.egress_gib', GEN)).toBe('419.095158577');
    expect(maxUnitsPerSlotHour({ netGbps: 3 }, 'net.egress_gib', GEN)).toBe('1257.285475731');
  });

  it('has no bound for API calls, or egress without a network spec', () => {
    expect(maxUnitsPerSlotHour(spec, 'api.call', AI)).toBeNull();
    expect(maxUnitsPerSlotHour(spec, 'net.egress_gib', AI)).toBeNull();
  });

  it('rejects unknown units, models and bad specs', () => {
    expect(code(() => maxUnitsPerSlotHour(spec, 'gpu.h' as UnitCode, AI))).toBe('unknown_unit');
    expect(
      code(() => maxUnitsPerSlotHour({ accel: { count: 1, model: 'B300' } }, 'scu.ai', AI)),
    ).toBe('unknown_model');
    expect(code(() => maxUnitsPerSlotHour({ cpu: 1.5 }, 'scu.gen', AI))).toBe('invalid_usage');
    expect(code(() => maxUnitsPerSlotHour({ cpu: -1 }, 'scu.gen', AI))).toBe('invalid_usage');
  });

  it('bounds the units of any usage the slot can deliver in an hour', () => {
    const usageWithin = fc.record({
      cpu: fc.integer({ min: 0, max: 3600 * 96 }),
      mem: fc.integer({ min: 0, max: 3600 * 1536 }),
      acc: fc.integer({ min: 0, max: 3600 * 8 }),
    });
    fc.assert(
      fc.property(usageWithin, ctxArb, ({ cpu, mem, acc }, ctx) => {
        const units = computeUnits(
          {
            duration_s: '3600',
            cpu_core_s: String(cpu),
            mem_gib_s: String(mem),
            acc_s: { H200: String(acc) },
          },
          ctx,
        );
        for (const c of ['scu.ai', 'scu.gen', 'scu.hpc', 'mem.gib_h'] as const) {
          const max = maxUnitsPerSlotHour(spec, c, ctx) as string;
          expect(value(units, c).lte(max)).toBe(true);
        }
      }),
    );
  });
});
