import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { PricedUnit, ResourceSpec } from '@suanli/contracts';
import { Decimal, Money, minorUnitDigits, parseDecimal } from '@suanli/money';
import { maxUnitsPerSlotHour, type UnitCode } from '@suanli/units';
import {
  HOUR_MS,
  escrowHold,
  floorHour,
  nextPeriod,
  ratePeriod,
  slotHours,
  sumLines,
  type PriceRow,
} from './rating.js';

// ---------- an independent oracle: exact rationals in bigint ----------

/** A decimal string as numerator / 10^scale. */
function rational(s: string): { n: bigint; d: bigint } {
  const neg = s.startsWith('-');
  const [int, frac = ''] = (neg ? s.slice(1) : s).split('.');
  const n = BigInt(int + frac) * (neg ? -1n : 1n);
  return { n, d: 10n ** BigInt(frac.length) };
}

/** n/d (n ≥ 0, d > 0) rounded half-even to `digits` decimals, as a fixed-point string. */
function halfEven(n: bigint, d: bigint, digits: number): string {
  const scaled = n * 10n ** BigInt(digits);
  let q = scaled / d;
  const r = scaled % d;
  if (2n * r > d || (2n * r === d && q % 2n === 1n)) q += 1n;
  return fixed(q, digits);
}

/** n/d (n ≥ 0) rounded up to `digits` decimals. */
function ceil(n: bigint, d: bigint, digits: number): string {
  const scaled = n * 10n ** BigInt(digits);
  const q = scaled / d + (scaled % d === 0n ? 0n : 1n);
  return fixed(q, digits);
}

function fixed(q: bigint, digits: number): string {
  const s = q.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

// ---------- generators ----------

const currency = fc.constantFrom('CNY', 'USD', 'JPY', 'KWD');
/** Prices with up to 6 integer and 6 fraction digits, > 0. */
const price = fc
  .tuple(fc.integer({ min: 0, max: 999_999 }), fc.stringMatching(/^\d{0,6}$/))
  .map(([i, f]) => (f === '' ? String(i) : `${i}.${f}`))
  .filter((p) => !parseDecimal(p).isZero());
const quantity = fc
  .tuple(fc.integer({ min: 0, max: 100_000 }), fc.stringMatching(/^\d{0,9}$/))
  .map(([i, f]) => (f === '' ? String(i) : `${i}.${f}`));
const takeRate = fc
  .integer({ min: 0, max: 10_000 })
  .map((bp) => new Decimal(bp).div(10_000).toFixed());
const slots = fc.integer({ min: 1, max: 10_000 });
/** Whole seconds within one hour, as milliseconds. */
const activeMs = fc.integer({ min: 0, max: 3600 }).map((s) => s * 1000);
const unitOf = fc.constantFrom<PricedUnit>('scu.ai', 'scu.gen', 'mem.gib_h', 'sto.gib_h');
const prices = fc
  .uniqueArray(
    fc.tuple(
      fc.constantFrom<PricedUnit>('slot_h', 'scu.ai', 'scu.gen', 'mem.gib_h', 'api.call'),
      price,
    ),
    {
      minLength: 1,
      maxLength: 5,
      selector: ([u]) => u,
    },
  )
  .map((rows) => rows.map(([unit, p]): PriceRow => ({ unit, price: p })));

// ---------- periods ----------

describe('floorHour and nextPeriod', () => {
  const instant = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((t) => new Date(t));

  it('floors to the UTC clock hour', () => {
    expect(floorHour(new Date('2026-11-28T10:59:59.999Z')).toISOString()).toBe(
      '2026-11-28T10:00:00.000Z',
    );
    fc.assert(
      fc.property(instant, (d) => {
        const f = floorHour(d);
        expect(f.getTime() % HOUR_MS).toBe(0);
        expect(f.getTime()).toBeLessThanOrEqual(d.getTime());
        expect(d.getTime() - f.getTime()).toBeLessThan(HOUR_MS);
        expect(floorHour(f).getTime()).toBe(f.getTime());
      }),
    );
  });

  it('cuts [start, end) into contiguous periods, each inside one clock hour', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 72 * HOUR_MS }), (start, len) => {
        const end = new Date(start.getTime() + len);
        let at = start;
        let covered = 0;
        let count = 0;
        for (let p = nextPeriod(at, end); p; p = nextPeriod(at, end)) {
          expect(p.start.getTime()).toBe(at.getTime());
          expect(p.end.getTime()).toBeGreaterThan(p.start.getTime());
          expect(floorHour(p.start).getTime()).toBe(
            floorHour(new Date(p.end.getTime() - 1)).getTime(),
          );
          covered += p.end.getTime() - p.start.getTime();
          at = p.end;
          count += 1;
        }
        expect(at.getTime()).toBe(len === 0 ? start.getTime() : end.getTime());
        expect(covered).toBe(len);
        // Whole hours plus at most one partial period at each end.
        expect(count).toBeLessThanOrEqual(Math.ceil(len / HOUR_MS) + 1);
      }),
    );
  });
});

// ---------- rating ----------

describe('ratePeriod', () => {
  it('rounds each line half-even (GB/T 8170 四舍六入五成双)', () => {
    const rate = (p: string, ms: number, s = 1) =>
      ratePeriod({
        currency: 'CNY',
        slots: s,
        prices: [{ unit: 'slot_h', price: p }],
        activeMs: ms,
        usage: {},
        takeRate: '0.05',
      });
    // Half an hour: 0.025 → 0.02 (even), 0.035 → 0.04 (even), 0.045 → 0.04.
    expect(rate('0.05', 1800_000).gross).toBe('0.02');
    expect(rate('0.07', 1800_000).gross).toBe('0.04');
    expect(rate('0.09', 1800_000).gross).toBe('0.04');
    // 20 minutes of 2 slots at 10.00: 6.666… → 6.67; quantity shown to 9 dp.
    const r = rate('10.00', 1200_000, 2);
    expect(r.lines[0]).toEqual({
      description: 'Slot-hours',
      unit: 'slot_h',
      quantity: '0.666666667',
      unitPrice: '10.00',
      amount: '6.67',
    });
    expect(r).toMatchObject({ gross: '6.67', fee: '0.33', net: '6.34' });
  });

  it('rates a full hour with several prices, one line per priced unit', () => {
    const r = ratePeriod({
      currency: 'CNY',
      slots: 2,
      prices: [
        { unit: 'slot_h', price: '12.50' },
        { unit: 'scu.ai', price: '9.00' },
        { unit: 'mem.gib_h', price: '0.013' },
      ],
      activeMs: HOUR_MS,
      usage: { 'scu.ai': '1.978000000', 'mem.gib_h': '512.5' },
      takeRate: '0.05',
    });
    expect(r.lines.map((l) => [l.unit, l.quantity, l.amount])).toEqual([
      ['slot_h', '2', '25.00'],
      ['scu.ai', '1.978', '17.80'],
      // 512.5 × 0.013 = 6.6625 → 6.66 (half-even: the 2 is even).
      ['mem.gib_h', '512.5', '6.66'],
    ]);
    expect(r).toMatchObject({ gross: '49.46', fee: '2.47', net: '46.99' });
  });

  it('prices a unit without usage at zero and rounds JPY to yen', () => {
    const r = ratePeriod({
      currency: 'JPY',
      slots: 1,
      prices: [
        { unit: 'slot_h', price: '150' },
        { unit: 'scu.ai', price: '1000' },
      ],
      activeMs: 60_000,
      usage: {},
      takeRate: '0.05',
    });
    // 150 / 60 = 2.5 → 2 (even).
    expect(r.lines.map((l) => l.amount)).toEqual(['2', '0']);
    expect(r).toMatchObject({ gross: '2', fee: '0', net: '2' });
  });

  it('matches an exact rational oracle for every line, gross, fee and net', () => {
    fc.assert(
      fc.property(
        currency,
        slots,
        activeMs,
        prices,
        fc.dictionary(unitOf, quantity),
        takeRate,
        (cur, s, ms, rows, usage, rate) => {
          const digits = minorUnitDigits(cur);
          const r = ratePeriod({
            currency: cur,
            slots: s,
            prices: rows,
            activeMs: ms,
            usage,
            takeRate: rate,
          });
          expect(r.lines).toHaveLength(rows.length);
          let gross = new Decimal(0);
          rows.forEach((row, i) => {
            const p = rational(row.price);
            let expected: string;
            if (row.unit === 'slot_h') {
              expected = halfEven(BigInt(s) * BigInt(ms) * p.n, BigInt(HOUR_MS) * p.d, digits);
            } else {
              const q = rational(usage[row.unit as keyof typeof usage] ?? '0');
              expected = halfEven(q.n * p.n, q.d * p.d, digits);
            }
            expect(r.lines[i].amount).toBe(expected);
            gross = gross.plus(expected);
          });
          expect(r.gross).toBe(Money.of(gross, cur).toString());
          const g = rational(r.gross);
          const t = rational(rate);
          expect(r.fee).toBe(halfEven(g.n * t.n, g.d * t.d, digits));
          // gross = fee + net, all at the minor unit, none negative.
          expect(
            Money.of(r.fee, cur).plus(Money.of(r.net, cur)).equals(Money.of(r.gross, cur)),
          ).toBe(true);
          for (const a of [r.gross, r.fee, r.net]) {
            expect(Money.of(a, cur).isAtMinorPrecision()).toBe(true);
            expect(Money.of(a, cur).isNegative()).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives slot-hours = slots × seconds / 3600', () => {
    fc.assert(
      fc.property(slots, activeMs, (s, ms) => {
        const q = slotHours(s, ms);
        // × 3600 recovers slots × seconds (to the 60 significant digits decimal.js keeps).
        expect(
          q
            .times(3600)
            .toDecimalPlaces(30)
            .eq(new Decimal(s).times(ms / 1000)),
        ).toBe(true);
      }),
    );
  });

  it('rejects negative or fractional inputs', () => {
    const base = {
      currency: 'CNY',
      prices: [{ unit: 'slot_h' as const, price: '1' }],
      usage: {},
      takeRate: '0.05',
    };
    expect(() => ratePeriod({ ...base, slots: -1, activeMs: 1000 })).toThrow(RangeError);
    expect(() => ratePeriod({ ...base, slots: 1, activeMs: 0.5 })).toThrow(RangeError);
    expect(() =>
      ratePeriod({
        ...base,
        prices: [{ unit: 'scu.ai', price: '1' }],
        slots: 1,
        activeMs: 0,
        usage: { 'scu.ai': '-1' },
      }),
    ).toThrow(RangeError);
  });
});

// ---------- escrow hold ----------

const spec = fc.record(
  {
    cpu: fc.integer({ min: 1, max: 256 }),
    memGiB: fc.integer({ min: 1, max: 4096 }),
    accel: fc.record({
      count: fc.integer({ min: 1, max: 16 }),
      model: fc.constantFrom('H100', 'A100', 'L40S', '910B', 'MI300X'),
    }),
    storageGiB: fc.integer({ min: 1, max: 100_000 }),
  },
  { requiredKeys: ['cpu'] },
) as fc.Arbitrary<ResourceSpec>;
const computeClass = fc.constantFrom<'GEN' | 'AI' | 'HPC'>('GEN', 'AI', 'HPC');
const boundedPrices = fc
  .uniqueArray(
    fc.tuple(
      fc.constantFrom<PricedUnit>(
        'slot_h',
        'scu.ai',
        'scu.hpc',
        'scu.gen',
        'mem.gib_h',
        'sto.gib_h',
      ),
      price,
    ),
    { minLength: 1, maxLength: 6, selector: ([u]) => u },
  )
  .map((rows) => rows.map(([unit, p]): PriceRow => ({ unit, price: p })));

describe('escrowHold', () => {
  it('holds slots × 1 h × price, rounded up to the minor unit', () => {
    const hold = (p: string, s: number, cur = 'CNY') =>
      escrowHold({
        currency: cur,
        slots: s,
        prices: [{ unit: 'slot_h', price: p }],
        spec: { cpu: 8 },
        computeClass: 'GEN',
        catalog: '2026.1',
      }).toString();
    expect(hold('12.50', 3)).toBe('37.50');
    expect(hold('0.001', 1)).toBe('0.01');
    expect(hold('0.0101', 3)).toBe('0.04');
    expect(hold('0.4', 1, 'JPY')).toBe('1');
  });

  it('bounds per-unit prices by maxUnitsPerSlotHour', () => {
    const m = escrowHold({
      currency: 'CNY',
      slots: 2,
      prices: [
        { unit: 'scu.ai', price: '9.00' },
        { unit: 'api.call', price: '0.01' },
      ],
      spec: { cpu: 8, accel: { count: 1, model: 'H100' } },
      computeClass: 'AI',
      catalog: '2026.1',
    });
    // H100: 989 TFLOPS FP16 → 0.989 scu.ai per slot-hour; api.call is unbounded (adds nothing).
    expect(m.toString()).toBe('17.81'); // 2 × 0.989 × 9 = 17.802 → up
  });

  it('is the exact bound rounded up, and covers any period whose usage stays within the spec', () => {
    fc.assert(
      fc.property(
        currency,
        slots,
        boundedPrices,
        spec,
        computeClass,
        activeMs,
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 6, maxLength: 6 }),
        takeRate,
        (cur, s, rows, sp, cls, ms, permille, rate) => {
          const ctx = { catalog: '2026.1', class: cls };
          const hold = escrowHold({
            currency: cur,
            slots: s,
            prices: rows,
            spec: sp,
            computeClass: cls,
            catalog: '2026.1',
          });
          // Oracle: Σ slots × bound × price, exact, then the ceiling.
          let n = 0n;
          let d = 1n;
          for (const row of rows) {
            const bound =
              row.unit === 'slot_h'
                ? '1'
                : (maxUnitsPerSlotHour(sp, row.unit as UnitCode, ctx) ?? '0');
            const b = rational(bound);
            const p = rational(row.price);
            const tn = BigInt(s) * b.n * p.n;
            const td = b.d * p.d;
            n = n * td + tn * d;
            d = d * td;
          }
          expect(hold.toString()).toBe(ceil(n, d, minorUnitDigits(cur)));

          // Any usage up to the bound (a fraction of it per unit) costs no more than the hold.
          const usage: Record<string, string> = {};
          rows.forEach((row, i) => {
            if (row.unit === 'slot_h') return;
            const bound = maxUnitsPerSlotHour(sp, row.unit as UnitCode, ctx) ?? '0';
            usage[row.unit] = new Decimal(bound)
              .times(s)
              .times(permille[i])
              .div(1000)
              .toDecimalPlaces(9, Decimal.ROUND_DOWN)
              .toFixed();
          });
          const rated = ratePeriod({
            currency: cur,
            slots: s,
            prices: rows,
            activeMs: ms,
            usage,
            takeRate: rate,
          });
          expect(Money.of(rated.gross, cur).lte(hold)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------- invoice lines ----------

describe('sumLines', () => {
  it('sums the debit notes by unit and price; the total equals Σ gross', () => {
    fc.assert(
      fc.property(
        currency,
        slots,
        fc.array(fc.tuple(activeMs, prices, fc.dictionary(unitOf, quantity)), {
          minLength: 1,
          maxLength: 8,
        }),
        (cur, s, periods) => {
          const notes = periods.map(([ms, rows, usage]) =>
            ratePeriod({
              currency: cur,
              slots: s,
              prices: rows,
              activeMs: ms,
              usage,
              takeRate: '0.05',
            }),
          );
          const lines = sumLines(cur, notes);
          const keys = new Set(
            notes.flatMap((n) => n.lines.map((l) => `${l.unit}|${l.unitPrice}`)),
          );
          expect(lines).toHaveLength(keys.size);
          const total = Money.sum(
            lines.map((l) => Money.of(l.amount, cur)),
            cur,
          );
          const gross = Money.sum(
            notes.map((n) => Money.of(n.gross, cur)),
            cur,
          );
          expect(total.equals(gross)).toBe(true);
          for (const l of lines) {
            const parts = notes.flatMap((n) =>
              n.lines.filter((x) => x.unit === l.unit && x.unitPrice === l.unitPrice),
            );
            const q = parts.reduce((a, x) => a.plus(x.quantity), new Decimal(0));
            expect(parseDecimal(l.quantity).eq(q)).toBe(true);
          }
        },
      ),
    );
  });
});
