import { describe, expect, it } from '@jest/globals';
import type { ResourceSpec } from '@suanli/contracts';
import type { RawUsage } from '@suanli/units';
import fc from 'fast-check';
import {
  addInterval,
  CAPACITY_FIELDS,
  CapacityLedger,
  coveredMs,
  leaseCapacity,
  MINUTE_MS,
  scaledText,
  shareOf,
  type CapacityEvent,
  type CapacityField,
} from './capacity.js';

const L = '11111111-1111-4111-8111-111111111111';
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('capacity rule helpers', () => {
  it('merges covered intervals and measures them', () => {
    let c = addInterval([], 10_000, 20_000);
    c = addInterval(c, 30_000, 40_000);
    expect(c).toEqual([10_000, 20_000, 30_000, 40_000]);
    expect(addInterval(c, 20_000, 30_000)).toEqual([10_000, 40_000]);
    expect(addInterval(c, 0, 5_000)).toEqual([0, 5_000, 10_000, 20_000, 30_000, 40_000]);
    expect(addInterval(c, 15_000, 35_000)).toEqual([10_000, 40_000]);
    expect(addInterval(c, 50_000, 60_000)).toEqual([
      10_000, 20_000, 30_000, 40_000, 50_000, 60_000,
    ]);
    expect(coveredMs(addInterval(c, 5_000, 45_000))).toBe(40_000);
  });

  it('spreads a quantity over minutes rounded up, exact when the window is in one minute', () => {
    expect(shareOf({ n: 480n, scale: 0 }, 30_000, 30_000)).toEqual({ n: 480n, scale: 0 });
    expect(scaledText(shareOf({ n: 480n, scale: 0 }, 20_000, 60_000))).toBe(
      '160.000000000000000000',
    );
    expect(scaledText(shareOf({ n: 1n, scale: 0 }, 1_000, 3_000))).toBe('0.333333333333333334');
    expect(scaledText({ n: 5n, scale: 3 })).toBe('0.005');
  });

  it('derives the per-second capacity from slots × the per-slot spec', () => {
    const cap = leaseCapacity(
      { cpu: 8, memGiB: 64, accel: { count: 2, model: 'H200' }, netGbps: 10 },
      3,
    );
    expect(
      Object.fromEntries(CAPACITY_FIELDS.map((f) => [f, cap[f] && scaledText(cap[f])])),
    ).toEqual({
      cpu_core_s: '24',
      mem_gib_s: '192',
      acc_s: '6',
      sto_gib_s: null,
      egress_bytes: '3750000000',
    });
  });
});

describe('capacity rule: the probe of issue 18', () => {
  it('admits one of 200 copies of a 30-second window on a 1-slot, 8-vCPU lease', () => {
    const cap = leaseCapacity({ cpu: 8, memGiB: 32 }, 1);
    const ledger = new CapacityLedger();
    const copy: CapacityEvent = {
      leaseId: L,
      startMs: T0,
      endMs: T0 + 30_000,
      usage: { duration_s: '30', cpu_core_s: '240', mem_gib_s: '960' },
    };
    const verdicts = Array.from({ length: 200 }, () => ledger.admit(copy, cap));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(1);
    expect(verdicts[1]).toEqual({
      ok: false,
      detail:
        'cpu_core_s of the minute from 2026-01-01T00:00:00.000Z would total 480, more than the ' +
        'lease can deliver: 8 per second × 30 s of the minute covered = 240',
    });
    // The other half of the minute is still there to be reported.
    expect(ledger.admit({ ...copy, startMs: T0 + 30_000, endMs: T0 + 60_000 }, cap)).toEqual({
      ok: true,
    });
    expect(ledger.load(L, T0 / MINUTE_MS)).toEqual({
      covered: [0, 60_000],
      sums: { cpu_core_s: { n: 480n, scale: 0 }, mem_gib_s: { n: 1920n, scale: 0 } },
    });
  });

  it('catches a copy that overlaps from another minute (a long window)', () => {
    const cap = leaseCapacity({ cpu: 8 }, 1);
    const ledger = new CapacityLedger();
    const minute1: CapacityEvent = {
      leaseId: L,
      startMs: T0 + 60_000,
      endMs: T0 + 120_000,
      usage: { duration_s: '60', cpu_core_s: '480' },
    };
    expect(ledger.admit(minute1, cap).ok).toBe(true);
    // Ten minutes at full load, minute 1 among them: minute 1 would carry 480 + 480.
    const long: CapacityEvent = {
      leaseId: L,
      startMs: T0,
      endMs: T0 + 600_000,
      usage: { duration_s: '600', cpu_core_s: '4800' },
    };
    expect(ledger.admit(long, cap)).toMatchObject({ ok: false });
    // The same ten minutes at full load where nothing else was reported fit.
    expect(ledger.admit({ ...long, startMs: T0 + 120_000, endMs: T0 + 720_000 }, cap).ok).toBe(
      true,
    );
  });
});

// ---- properties -------------------------------------------------------------------------------

/** A plain decimal of at most `max` with up to 3 decimals: `max × p / 1000`, p in 0..1000. */
const fraction = fc.oneof(
  { weight: 2, arbitrary: fc.constant(1000) },
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 999 }) },
);

interface Gen {
  spec: ResourceSpec;
  slots: number;
  events: CapacityEvent[];
}

const FIELDS_OF_SPEC: [CapacityField, (s: ResourceSpec) => number | undefined][] = [
  ['cpu_core_s', (s) => s.cpu],
  ['mem_gib_s', (s) => s.memGiB],
  ['acc_s', (s) => s.accel?.count],
  ['egress_bytes', (s) => (s.netGbps === undefined ? undefined : s.netGbps * 125_000_000)],
];

/** Usage within capacity × seconds for each field the spec offers (what validation lets through). */
function usageFor(spec: ResourceSpec, slots: number, ms: number, fr: number[]): RawUsage {
  const u: RawUsage = { duration_s: String(ms / 1000) };
  FIELDS_OF_SPEC.forEach(([field, perSlot], i) => {
    const p = perSlot(spec);
    if (p === undefined) return;
    // slots × p × seconds × fr/1000, exactly (ms / 1000 × fr / 1000 → scale 6).
    const n = BigInt(slots) * BigInt(p) * BigInt(ms) * BigInt(fr[i] ?? 0);
    const text = scaledText({ n, scale: 6 });
    if (field === 'acc_s') u.acc_s = { [spec.accel?.model ?? 'H200']: text };
    else u[field] = text;
  });
  return u;
}

/** Windows over five minutes from T0 (starts on any millisecond), lengths 1 s to 3 min. */
const windowArb = fc
  .tuple(fc.integer({ min: 0, max: 5 * MINUTE_MS }), fc.integer({ min: 1, max: 180 }))
  .map(([start, seconds]) => ({ startMs: T0 + start, endMs: T0 + start + seconds * 1000 }));

const leaseArb = fc.record({
  slots: fc.integer({ min: 1, max: 3 }),
  spec: fc.record(
    {
      cpu: fc.integer({ min: 1, max: 16 }),
      memGiB: fc.integer({ min: 1, max: 64 }),
      accel: fc.record({ count: fc.integer({ min: 1, max: 8 }), model: fc.constant('H200') }),
      netGbps: fc.integer({ min: 1, max: 10 }),
    },
    { requiredKeys: ['cpu'] },
  ),
});

/**
 * Overlapping, duplicated, re-identified (the rule never sees ids or sources) and out-of-order
 * events: distinct windows, then copies of some of them with the same or other usage, shuffled.
 */
const scenarioArb: fc.Arbitrary<Gen> = leaseArb.chain(({ slots, spec }) =>
  fc
    .tuple(
      fc.array(fc.tuple(windowArb, fc.array(fraction, { minLength: 4, maxLength: 4 })), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.array(fc.tuple(fc.nat(), fc.array(fraction, { minLength: 4, maxLength: 4 })), {
        maxLength: 12,
      }),
    )
    .chain(([base, copies]) => {
      const events: CapacityEvent[] = base.map(([w, fr]) => ({
        leaseId: L,
        ...w,
        usage: usageFor(spec, slots, w.endMs - w.startMs, fr),
      }));
      for (const [pick, fr] of copies) {
        const of = events[pick % events.length] as CapacityEvent;
        events.push({ ...of, usage: usageFor(spec, slots, of.endMs - of.startMs, fr) });
        events.push(of); // and the very same event again
      }
      return fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length });
    })
    .map((events) => ({ slots, spec, events })),
);

/** The exact rational `num / den` of a decimal text. */
function ratio(text: string): [bigint, bigint] {
  const [i, f = ''] = text.split('.');
  return [BigInt(`${i}${f}`), 10n ** BigInt(f.length)];
}

function quantity(u: RawUsage, field: CapacityField): string | undefined {
  if (field === 'acc_s') return u.acc_s === undefined ? undefined : Object.values(u.acc_s)[0];
  return u[field];
}

/**
 * The invariant, recomputed independently of the ledger: for every minute and quantity, the exact
 * (unrounded) shares of the admitted events ≤ capacity per second × the ms covered / 1000.
 */
function checkInvariant(g: Gen, admitted: CapacityEvent[]): void {
  const cap = leaseCapacity(g.spec, g.slots);
  const minutes = new Set<number>();
  for (const e of admitted) {
    for (let m = Math.floor(e.startMs / MINUTE_MS); m * MINUTE_MS < e.endMs; m++) minutes.add(m);
  }
  for (const m of minutes) {
    const lo = m * MINUTE_MS;
    const hi = lo + MINUTE_MS;
    // Covered ms of the minute: union of the admitted windows clipped to it.
    const pieces = admitted
      .map((e) => [Math.max(e.startMs, lo), Math.min(e.endMs, hi)] as const)
      .filter(([a, b]) => a < b)
      .sort((x, y) => x[0] - y[0]);
    let covered = 0;
    let end = lo;
    for (const [a, b] of pieces) {
      if (b > end) {
        covered += b - Math.max(a, end);
        end = b;
      }
    }
    for (const field of CAPACITY_FIELDS) {
      const rate = cap[field];
      // Σ q·o/s as one fraction over the product of the denominators.
      let num = 0n;
      let den = 1n;
      for (const e of admitted) {
        const o = Math.min(e.endMs, hi) - Math.max(e.startMs, lo);
        const text = quantity(e.usage, field);
        if (o <= 0 || text === undefined) continue;
        const [qn, qd] = ratio(text);
        const n = qn * BigInt(o);
        const d = qd * BigInt(e.endMs - e.startMs);
        num = num * d + n * den;
        den *= d;
      }
      if (num === 0n) continue;
      expect(rate).not.toBeNull();
      // num / den ≤ rate × covered / 1000
      const r = rate as { n: bigint; scale: number };
      const lhs = num * 1000n * 10n ** BigInt(r.scale);
      const rhs = r.n * BigInt(covered) * den;
      if (lhs > rhs) {
        throw new Error(
          `minute ${m}: ${field} ${num}/${den} exceeds ${scaledText(r)} × ${covered} ms`,
        );
      }
    }
  }
}

describe('capacity rule properties (fast-check)', () => {
  it('never lets the admitted events of a lease-minute exceed capacity × covered seconds', () => {
    fc.assert(
      fc.property(scenarioArb, (g) => {
        const cap = leaseCapacity(g.spec, g.slots);
        const ledger = new CapacityLedger();
        const admitted = g.events.filter((e) => ledger.admit(e, cap).ok);
        expect(admitted.length).toBeGreaterThan(0); // the first event always fits
        checkInvariant(g, admitted);
      }),
      { numRuns: 300 },
    );
  });

  it('decides the same when the events come in several transactions (state stored and reloaded)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(fc.nat(), { maxLength: 4 }), (g, cuts) => {
        const cap = leaseCapacity(g.spec, g.slots);
        const one = new CapacityLedger();
        const expected = g.events.map((e) => one.admit(e, cap).ok);
        // Split into transactions; each seeds a new ledger with every stored row it touches.
        const stored = new Map<string, ReturnType<CapacityLedger['changed']>[number]>();
        const bounds = [...new Set(cuts.map((c) => c % (g.events.length + 1)))].sort(
          (a, b) => a - b,
        );
        const got: boolean[] = [];
        let from = 0;
        for (const to of [...bounds, g.events.length]) {
          const tx = new CapacityLedger(stored.values());
          for (const e of g.events.slice(from, to)) got.push(tx.admit(e, cap).ok);
          for (const row of tx.changed()) stored.set(`${row.leaseId}|${row.minute}`, row);
          from = Math.max(from, to);
        }
        expect(got).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('admits every event of windows that do not overlap, in any order (no false refusals)', () => {
    const disjoint = leaseArb.chain(({ slots, spec }) =>
      fc
        .array(
          fc.tuple(
            fc.integer({ min: 0, max: 20_000 }), // gap before, ms
            fc.integer({ min: 1, max: 200 }), // seconds
            fc.array(fraction, { minLength: 4, maxLength: 4 }),
          ),
          { minLength: 1, maxLength: 15 },
        )
        .map((parts) => {
          let at = T0 + 7;
          const events: CapacityEvent[] = [];
          for (const [gap, seconds, fr] of parts) {
            const startMs = at + gap;
            const endMs = startMs + seconds * 1000;
            events.push({
              leaseId: L,
              startMs,
              endMs,
              usage: usageFor(spec, slots, endMs - startMs, fr),
            });
            at = endMs;
          }
          return events;
        })
        .chain((events) =>
          fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        )
        .map((events) => ({ slots, spec, events })),
    );
    fc.assert(
      fc.property(disjoint, (g) => {
        const cap = leaseCapacity(g.spec, g.slots);
        const ledger = new CapacityLedger();
        for (const e of g.events) expect(ledger.admit(e, cap)).toEqual({ ok: true });
      }),
      { numRuns: 300 },
    );
  });
});
