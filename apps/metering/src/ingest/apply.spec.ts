import { describe, expect, it } from '@jest/globals';
import { Decimal } from '@suanli/money';
import fc from 'fast-check';
import { arrayLiteral, bucketize, unverifiedAgent } from './apply.js';
import { loadIngestConfig } from './config.js';

const L1 = '11111111-1111-4111-8111-111111111111';

describe('bucketize', () => {
  it('sums exactly per lease, unit and the bucket of the window start', () => {
    const at = (iso: string) => new Date(iso);
    const rows = bucketize(
      [
        {
          leaseId: L1,
          windowStart: at('2026-11-28T08:00:00Z'),
          units: { 'scu.ai': '0.100000001' },
        },
        {
          leaseId: L1,
          windowStart: at('2026-11-28T08:00:30Z'),
          units: { 'scu.ai': '0.200000002' },
        },
        {
          leaseId: L1,
          windowStart: at('2026-11-28T08:01:00Z'),
          units: { 'scu.ai': '0.3', 'mem.gib_h': '1' },
        },
      ],
      60_000,
    );
    expect(rows).toEqual([
      {
        leaseId: L1,
        unit: 'mem.gib_h',
        bucket: at('2026-11-28T08:01:00Z'),
        quantity: '1.000000000',
      },
      { leaseId: L1, unit: 'scu.ai', bucket: at('2026-11-28T08:00:00Z'), quantity: '0.300000003' },
      {
        leaseId: L1,
        unit: 'scu.ai',
        bucket: at('2026-11-28T08:01:00Z'),
        quantity: '0.300000000',
      },
    ]);
    const hours = bucketize(
      [{ leaseId: L1, windowStart: at('2026-11-28T08:59:00Z'), units: { x: '1' } }],
      3_600_000,
    );
    expect(hours[0].bucket).toEqual(at('2026-11-28T08:00:00Z'));
    // More than 9 decimals: summed as decimals, still exact.
    expect(
      bucketize(
        [
          { leaseId: L1, windowStart: at('2026-11-28T08:00:00Z'), units: { x: '0.5' } },
          { leaseId: L1, windowStart: at('2026-11-28T08:00:00Z'), units: { x: '0.0000000001' } },
          { leaseId: L1, windowStart: at('2026-11-28T08:00:00Z'), units: { x: '1' } },
        ],
        60_000,
      )[0].quantity,
    ).toBe('1.5000000001');
  });
});

describe('bucketize properties', () => {
  const quantity = fc.oneof(
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
    fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.stringMatching(/^\d{1,12}$/))
      .map(([i, f]) => `${i}.${f}`),
  );
  const event = fc.record({
    leaseId: fc.constantFrom(L1, '22222222-2222-4222-8222-222222222222'),
    windowStart: fc
      .integer({ min: 0, max: 600 })
      .map((m) => new Date(Date.UTC(2026, 10, 28) + m * 60_000)),
    units: fc.dictionary(fc.constantFrom('scu.ai', 'mem.gib_h', 'api.call'), quantity),
  });

  it('sums exactly as decimal.js does, in one sorted row per lease, unit and bucket', () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 60 }),
        fc.constantFrom(60_000, 3_600_000),
        (events, ms) => {
          const expected = new Map<string, Decimal>();
          for (const e of events)
            for (const [u, q] of Object.entries(e.units)) {
              const k = `${e.leaseId}|${u}|${Math.floor(e.windowStart.getTime() / ms) * ms}`;
              expected.set(k, (expected.get(k) ?? new Decimal(0)).plus(q));
            }
          const rows = bucketize(events, ms);
          expect(rows.length).toBe(expected.size);
          for (const r of rows) {
            const want = expected.get(`${r.leaseId}|${r.unit}|${r.bucket.getTime()}`);
            expect(want?.eq(r.quantity)).toBe(true);
          }
          const keys = rows.map((r) => [r.leaseId, r.unit, r.bucket.getTime()] as const);
          const sorted = [...keys].sort((a, b) =>
            a[0] !== b[0]
              ? a[0] < b[0]
                ? -1
                : 1
              : a[1] !== b[1]
                ? a[1] < b[1]
                  ? -1
                  : 1
                : a[2] - b[2],
          );
          expect(keys).toEqual(sorted);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('arrayLiteral', () => {
  it('joins plain tokens and quotes anything else, as PostgreSQL reads array literals', () => {
    expect(arrayLiteral(['2026-01-01T00:00:00.000Z', 'scu.ai', '0.131866667'])).toBe(
      '{2026-01-01T00:00:00.000Z,scu.ai,0.131866667}',
    );
    expect(arrayLiteral(['a b', 'x'])).toBe('{"a b","x"}');
    expect(arrayLiteral(['q"\\', 'NULL'])).toBe('{"q\\"\\\\","NULL"}');
    expect(arrayLiteral(['null'])).toBe('{"null"}');
    expect(arrayLiteral([])).toBe('{}');
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
