import { describe, expect, it } from '@jest/globals';
import type { UsageEvent } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import fc from 'fast-check';
import { checkCapacity, validateEvent, type EventContext, type LeaseFacts } from './validate.js';

const AGENT = '86.R03.E00042/000137#a1';
const RESOURCE = '11111111-1111-4111-8111-111111111111';
const LEASE = '22222222-2222-4222-8222-222222222222';

const lease: LeaseFacts = {
  id: LEASE,
  resourceId: RESOURCE,
  startsAt: new Date('2026-11-28T08:00:00Z'),
  endsAt: new Date('2026-11-28T10:00:00Z'),
  slots: 8,
  catalogVersion: '2026.1',
  computeClass: 'AI',
  spec: { cpu: 12, memGiB: 192, accel: { count: 1, model: 'H200' } },
  cpuModel: null,
  invoiceIssuedAt: null,
};

function event(over: Partial<UsageEvent['data']> = {}, top: Partial<UsageEvent> = {}): UsageEvent {
  return {
    specversion: '1.0',
    id: '01JDX0000000000000000000AA',
    source: AGENT,
    type: 'exchange.usage.v1',
    subject: LEASE,
    time: '2026-11-28T08:01:00Z',
    datacontenttype: 'application/json',
    data: {
      cri: 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U',
      window: { start: '2026-11-28T08:00:00Z', end: '2026-11-28T08:01:00Z' },
      usage: {
        duration_s: '60',
        cpu_core_s: '5760',
        mem_gib_s: '92160',
        acc_s: { H200: '480' },
        egress_bytes: '0',
      },
      units: { 'scu.ai': '0.131866667', 'scu.gen': '1.600000000', 'mem.gib_h': '25.600000000' },
      catalog: '2026.1',
      ...over,
    },
    ...top,
  };
}

const ctx = (over: Partial<EventContext> = {}): EventContext => ({
  agentId: AGENT,
  resourceId: RESOURCE,
  lease,
  now: new Date('2026-11-28T09:00:00Z'),
  lateGraceHours: 24,
  ...over,
});

describe('validateEvent', () => {
  it('accepts the spec example and returns the server units', () => {
    const v = validateEvent(event(), ctx());
    expect(v).toMatchObject({
      ok: true,
      units: { 'scu.ai': '0.131866667', 'scu.gen': '1.600000000', 'mem.gib_h': '25.600000000' },
      windowStart: new Date('2026-11-28T08:00:00Z'),
    });
  });

  it('rates an unsigned event that leaves its units out, and records the catalog it used', () => {
    const { units: _units, ...data } = event().data;
    const unsigned = { ...event(), data };
    const v = validateEvent(unsigned, ctx({ agentId: null }));
    expect(v).toMatchObject({
      ok: true,
      units: { 'scu.ai': '0.131866667', 'scu.gen': '1.600000000', 'mem.gib_h': '25.600000000' },
      ratedCatalog: '2026.1',
    });
    // The sender's units are checked, not recorded as the exchange's rating.
    expect(validateEvent(event(), ctx({ agentId: null }))).toMatchObject({ ratedCatalog: null });
    // Its catalog must still be the one the lease pins.
    expect(
      validateEvent({ ...unsigned, data: { ...data, catalog: '2027.1' } }, ctx({ agentId: null })),
    ).toMatchObject({ ok: false, reason: 'units_mismatch' });
    // A signed batch's events always carry the units their agent computed and signed.
    expect(validateEvent(unsigned, ctx())).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('accepts agent units that differ by one in the 9th place (rounding)', () => {
    const v = validateEvent(
      event({
        units: { 'scu.ai': '0.131866666', 'scu.gen': '1.600000000', 'mem.gib_h': '25.600000001' },
      }),
      ctx(),
    );
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.units['scu.ai']).toBe('0.131866667'); // the server's figure is stored
  });

  it('rejects malformed events and foreign sources as schema', () => {
    expect(validateEvent({ id: 'x' }, ctx())).toMatchObject({ ok: false, reason: 'schema' });
    expect(
      validateEvent(event({ usage: { duration_s: '60', cpu_core_s: '1e3' } }), ctx()),
    ).toMatchObject({ ok: false, reason: 'schema' });
    expect(validateEvent(event({}, { source: 'other#a9' }), ctx())).toMatchObject({
      ok: false,
      reason: 'schema',
    });
    expect(
      validateEvent(event({ usage: { duration_s: '60', cpu_core_s: '-5' } }), ctx()),
    ).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('rejects unknown leases and leases of another resource', () => {
    expect(validateEvent(event(), ctx({ lease: undefined }))).toMatchObject({
      ok: false,
      reason: 'unknown_lease',
    });
    expect(
      validateEvent(event(), ctx({ resourceId: '33333333-3333-4333-8333-333333333333' })),
    ).toMatchObject({
      ok: false,
      reason: 'unknown_lease',
    });
  });

  it('rejects windows outside the lease, empty, fractional or longer than an hour', () => {
    const w = (start: string, end: string) => event({ window: { start, end } });
    expect(validateEvent(w('2026-11-28T07:59:00Z', '2026-11-28T08:00:00Z'), ctx())).toMatchObject({
      reason: 'outside_lease',
    });
    expect(validateEvent(w('2026-11-28T09:59:30Z', '2026-11-28T10:00:30Z'), ctx())).toMatchObject({
      reason: 'outside_lease',
    });
    expect(validateEvent(w('2026-11-28T08:01:00Z', '2026-11-28T08:01:00Z'), ctx())).toMatchObject({
      reason: 'outside_lease',
    });
    expect(
      validateEvent(w('2026-11-28T08:00:00Z', '2026-11-28T08:00:00.500Z'), ctx()),
    ).toMatchObject({ reason: 'outside_lease' });
    const long = { ...lease, endsAt: new Date('2026-11-28T12:00:00Z') };
    expect(
      validateEvent(w('2026-11-28T08:00:00Z', '2026-11-28T09:00:01Z'), ctx({ lease: long })),
    ).toMatchObject({
      reason: 'outside_lease',
    });
    const hour = event({
      window: { start: '2026-11-28T08:00:00Z', end: '2026-11-28T09:00:00Z' },
      usage: { duration_s: '3600' },
      units: {},
    });
    expect(validateEvent(hour, ctx())).toMatchObject({ ok: true });
  });

  it('rejects usage beyond spec × slots × seconds as over_capacity', () => {
    const over = (usage: UsageEvent['data']['usage']) => validateEvent(event({ usage }), ctx());
    expect(over({ duration_s: '60', acc_s: { H200: '480.001' } })).toMatchObject({
      reason: 'over_capacity',
    });
    expect(over({ duration_s: '60', cpu_core_s: '5761' })).toMatchObject({
      reason: 'over_capacity',
    });
    expect(over({ duration_s: '60', acc_s: { H100: '1' } })).toMatchObject({
      reason: 'over_capacity',
    });
    expect(over({ duration_s: '61' })).toMatchObject({ reason: 'over_capacity' });
    expect(over({ duration_s: '60', sto_gib_s: '1' })).toMatchObject({ reason: 'over_capacity' });
  });

  it('rejects units that differ beyond rounding, or another catalog, as units_mismatch', () => {
    expect(
      validateEvent(
        event({
          units: { 'scu.ai': '0.131866669', 'scu.gen': '1.600000000', 'mem.gib_h': '25.600000000' },
        }),
        ctx(),
      ),
    ).toMatchObject({
      reason: 'units_mismatch',
    });
    expect(validateEvent(event({ units: { 'scu.ai': '0.131866667' } }), ctx())).toMatchObject({
      reason: 'units_mismatch',
    });
    expect(validateEvent(event({ catalog: '2025.9' }), ctx())).toMatchObject({
      reason: 'units_mismatch',
    });
  });

  it('accepts late events until the invoice plus grace, then rejects them as late', () => {
    const invoiced = { ...lease, invoiceIssuedAt: new Date('2026-11-28T10:30:00Z') };
    expect(
      validateEvent(event(), ctx({ lease: invoiced, now: new Date('2026-11-29T10:30:00Z') })).ok,
    ).toBe(true);
    expect(
      validateEvent(event(), ctx({ lease: invoiced, now: new Date('2026-11-29T10:30:01Z') })),
    ).toMatchObject({
      reason: 'late',
    });
  });
});

describe('checkCapacity', () => {
  it('bounds egress by the network rate when the spec has one', () => {
    const spec = { netGbps: 10 };
    // 10 Gbit/s = 1.25e9 B/s; 2 slots × 60 s → 1.5e11 bytes
    expect(
      checkCapacity({ duration_s: '60', egress_bytes: '150000000000' }, spec, 2, 60),
    ).toBeNull();
    expect(checkCapacity({ duration_s: '60', egress_bytes: '150000000001' }, spec, 2, 60)).toMatch(
      /egress_bytes/,
    );
    expect(checkCapacity({ duration_s: '60', egress_bytes: '0' }, { cpu: 1 }, 1, 60)).toBeNull();
  });
});

describe('checkCapacity on fixed point', () => {
  // A reference with decimal.js alone: the verdict must not depend on which path decided it.
  const within = (usage: Record<string, string>, limit: Record<string, number>): boolean =>
    Object.entries(usage).every(([k, v]) => {
      const d = new Decimal(v);
      if (k === 'duration_s') return d.lte(60);
      return d.isZero() || (limit[k] !== undefined && d.lte(new Decimal(limit[k]).times(120)));
    });
  const qty = fc.oneof(
    fc.bigInt({ min: 0n, max: 10n ** 12n }).map(String),
    fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.stringMatching(/^\d{1,12}$/))
      .map(([i, f]) => `${i}.${f}`),
  );

  it('answers as decimal.js does, bound for bound', () => {
    fc.assert(
      fc.property(
        fc.record(
          { duration_s: qty, cpu_core_s: qty, mem_gib_s: qty, sto_gib_s: qty, egress_bytes: qty },
          { requiredKeys: ['duration_s'] },
        ),
        fc.record({
          cpu: fc.integer({ min: 1, max: 512 }),
          memGiB: fc.integer({ min: 1, max: 4096 }),
          netGbps: fc.integer({ min: 1, max: 400 }),
        }),
        (usage, spec) => {
          const limit = {
            cpu_core_s: spec.cpu,
            mem_gib_s: spec.memGiB,
            egress_bytes: spec.netGbps * 125_000_000,
          };
          expect(checkCapacity(usage, spec, 2, 60) === null).toBe(within(usage, limit));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
