import { describe, expect, it } from '@jest/globals';
import { Decimal } from '@suanli/money';
import fc from 'fast-check';
import { element, minuteRows, unverifiedAgent } from './apply.js';
import { loadIngestConfig } from './config.js';

const L0 = '00000000-0000-4000-8000-000000000000';
const L1 = '11111111-1111-4111-8111-111111111111';

describe('minuteRows', () => {
  const at = (iso: string) => new Date(iso);
  const minute = (iso: string) => Date.parse(iso) / 60_000;

  it('sums exactly per lease and minute of the window start, one row with every unit', () => {
    const single = { 'scu.ai': '0.131866667', 'mem.gib_h': '25.600000000' };
    const rows = minuteRows([
      { leaseId: L1, windowStart: at('2026-11-28T08:00:00Z'), units: { 'scu.ai': '0.100000001' } },
      { leaseId: L1, windowStart: at('2026-11-28T08:00:30Z'), units: { 'scu.ai': '0.200000002' } },
      { leaseId: L1, windowStart: at('2026-11-28T08:01:00Z'), units: single },
      { leaseId: L0, windowStart: at('2026-11-28T08:02:00Z'), units: { 'api.call': '3' } },
    ]);
    expect(rows).toEqual([
      { leaseId: L0, minute: minute('2026-11-28T08:02:00Z'), units: { 'api.call': '3' } },
      { leaseId: L1, minute: minute('2026-11-28T08:00:00Z'), units: { 'scu.ai': '0.300000003' } },
      { leaseId: L1, minute: minute('2026-11-28T08:01:00Z'), units: single },
    ]);
    // More than 9 decimals: summed as decimals, still exact.
    expect(
      minuteRows([
        { leaseId: L1, windowStart: at('2026-11-28T08:00:00Z'), units: { x: '0.5' } },
        { leaseId: L1, windowStart: at('2026-11-28T08:00:00Z'), units: { x: '0.0000000001' } },
        { leaseId: L1, windowStart: at('2026-11-28T08:00:00Z'), units: { x: '1' } },
      ])[0]?.units,
    ).toEqual({ x: '1.5000000001' });
  });
});

describe('minuteRows properties', () => {
  const quantity = fc.oneof(
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
    fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.stringMatching(/^\d{1,12}$/))
      .map(([i, f]) => `${i}.${f}`),
  );
  const event = fc.record({
    leaseId: fc.constantFrom(L1, L0),
    windowStart: fc
      .integer({ min: 0, max: 600 })
      .map((m) => new Date(Date.UTC(2026, 10, 28) + m * 60_000 + (m % 7) * 1000)),
    units: fc.dictionary(fc.constantFrom('scu.ai', 'mem.gib_h', 'api.call'), quantity),
  });

  it('sums exactly as decimal.js does, in one row per lease and minute, sorted', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const expected = new Map<string, Decimal>();
        const cells = new Set<string>();
        for (const e of events) {
          const cell = `${e.leaseId}|${Math.floor(e.windowStart.getTime() / 60_000)}`;
          cells.add(cell);
          for (const [u, q] of Object.entries(e.units)) {
            expected.set(`${cell}|${u}`, (expected.get(`${cell}|${u}`) ?? new Decimal(0)).plus(q));
          }
        }
        const rows = minuteRows(events);
        expect(rows.length).toBe(cells.size);
        let units = 0;
        for (const r of rows) {
          for (const [u, q] of Object.entries(r.units)) {
            units++;
            expect(expected.get(`${r.leaseId}|${r.minute}|${u}`)?.eq(q)).toBe(true);
          }
        }
        expect(units).toBe(expected.size);
        const keys = rows.map((r) => [r.leaseId, r.minute] as const);
        const sorted = [...keys].sort((a, b) =>
          a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] - b[1],
        );
        expect(keys).toEqual(sorted);
      }),
      { numRuns: 500 },
    );
  });
});

describe('element', () => {
  it('leaves plain tokens as they are and quotes anything else, as PostgreSQL reads arrays', () => {
    for (const plain of ['2026-01-01T00:00:00.000Z', 'scu.ai', '0.131866667', '01JDXABC']) {
      expect(element(plain)).toBe(plain);
    }
    expect(element('a b')).toBe('"a b"');
    expect(element('86.R03.E00042/000137#a1')).toBe('"86.R03.E00042/000137#a1"');
    expect(element('q"\\')).toBe('"q\\"\\\\"');
    expect(element('NULL')).toBe('"NULL"');
    expect(element('null')).toBe('"null"');
    expect(element('')).toBe('""');
  });
});

describe('unverifiedAgent', () => {
  it('reads the agent claim of a JWS payload, null when it cannot', () => {
    const p = Buffer.from(JSON.stringify({ agent: 'a#1' })).toString('base64url');
    expect(unverifiedAgent(`h.${p}.s`)).toBe('a#1');
    expect(unverifiedAgent('garbage')).toBeNull();
    expect(unverifiedAgent('h.!!!.s')).toBeNull();
  });
});

describe('loadIngestConfig', () => {
  it('applies the defaults', () => {
    expect(
      loadIngestConfig({ DATABASE_URL: 'postgres://u@h:5432/db', KAFKA_BROKERS: 'a:1,b:2' }),
    ).toEqual({
      databaseUrl: 'postgres://u@h:5432/db',
      kafkaBrokers: ['a:1', 'b:2'],
      usageTopic: 'exchange.usage.v1',
      leaseTopic: 'exchange.lease.v1',
      leaseWaitMs: 30_000,
      stallMs: 60_000,
      dlqTopic: 'exchange.usage.dlq.v1',
      groupId: 'metering-ingest',
      port: 3101,
      lateGraceHours: 24,
      concurrency: 3,
    });
  });

  it('fails fast listing every problem', () => {
    expect(() => loadIngestConfig({ KAFKA_BROKERS: 'nope', INGEST_PORT: 'x' })).toThrow(
      /DATABASE_URL.*KAFKA_BROKERS.*INGEST_PORT/,
    );
  });
});
