import { describe, expect, it } from '@jest/globals';
import { Decimal, toFixedHalfEven } from '@suanli/money';
import fc from 'fast-check';
import { divToFixedHalfEven, parseScaled, scaledGreaterThan } from './fixed-point.js';
import {
  computeUnits,
  computeUnitsExact,
  getCatalog,
  UNIT_CODES,
  type ComputeClass,
  type RawUsage,
  type UnitsContext,
} from './index.js';

// Any plain decimal: up to 15 integer digits and 0-12 fraction digits, zeros included.
const plain = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 999_999_999_999_999n }),
    fc.option(fc.stringMatching(/^\d{1,12}$/), { nil: undefined }),
  )
  .map(([i, f]) => (f === undefined ? i.toString() : `${i.toString()}.${f}`));

/** The Decimal path, rounded as computeUnits rounds it. */
function viaDecimal(usage: RawUsage, ctx: UnitsContext): Record<string, string> {
  const exact = computeUnitsExact(usage, ctx);
  const out: Record<string, string> = {};
  for (const code of UNIT_CODES) {
    const v = exact[code];
    if (v !== undefined) out[code] = toFixedHalfEven(v, 9);
  }
  return out;
}

describe('fixed point', () => {
  it('parses plain decimals exactly and refuses everything else', () => {
    expect(parseScaled('123.450')).toEqual({ n: 123450n, scale: 3 });
    expect(parseScaled('0')).toEqual({ n: 0n, scale: 0 });
    for (const bad of ['-1', '1e3', '.5', '5.', ' 1', '+1', 'NaN', '', 7, null, '1'.repeat(201)]) {
      expect(parseScaled(bad)).toBeUndefined();
    }
  });

  it('divides and rounds half-even like decimal.js', () => {
    fc.assert(
      fc.property(plain, fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.nat(12), (a, d, dp) => {
        const scaled = parseScaled(a);
        if (scaled === undefined) throw new Error(a);
        expect(divToFixedHalfEven(scaled, d, dp)).toBe(
          toFixedHalfEven(new Decimal(a).div(d.toString()), dp),
        );
      }),
    );
    expect(divToFixedHalfEven({ n: 25n, scale: 1 }, 1n, 0)).toBe('2');
    expect(divToFixedHalfEven({ n: 35n, scale: 1 }, 1n, 0)).toBe('4');
  });

  it('compares with an integer limit', () => {
    fc.assert(
      fc.property(plain, fc.bigInt({ min: 0n, max: 10n ** 16n }), (a, limit) => {
        const scaled = parseScaled(a);
        if (scaled === undefined) throw new Error(a);
        expect(scaledGreaterThan(scaled, limit)).toBe(new Decimal(a).gt(limit.toString()));
      }),
    );
  });
});

describe('computeUnits on fixed point', () => {
  const model = fc.constantFrom(...Object.keys(getCatalog('2026.1').accelerators));
  const opt = fc.option(plain, { nil: undefined });
  const usageArb: fc.Arbitrary<RawUsage> = fc
    .record({
      duration_s: plain,
      cpu_core_s: opt,
      mem_gib_s: opt,
      sto_gib_s: opt,
      egress_bytes: opt,
      api_calls: opt,
      acc_s: fc.option(fc.dictionary(model, plain, { maxKeys: 4 }), { nil: undefined }),
    })
    .map((u) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(u)) if (v !== undefined) out[k] = v;
      return out as RawUsage;
    });
  const ctxArb = fc.record({
    catalog: fc.constant('2026.1'),
    class: fc.constantFrom<ComputeClass>('GEN', 'AI', 'HPC'),
    cpuModel: fc.option(fc.constantFrom('unknown-cpu', 'EPYC-9654'), { nil: undefined }),
  });

  it('gives exactly the Decimal path digits, keys and order', () => {
    fc.assert(
      fc.property(usageArb, ctxArb, (usage, ctx) => {
        const c: UnitsContext =
          ctx.cpuModel === undefined ? { catalog: ctx.catalog, class: ctx.class } : ctx;
        const fast = computeUnits(usage, c);
        const slow = viaDecimal(usage, c);
        expect(Object.keys(fast)).toEqual(Object.keys(slow));
        expect(fast).toEqual(slow);
      }),
      { numRuns: 2000 },
    );
  });
});
