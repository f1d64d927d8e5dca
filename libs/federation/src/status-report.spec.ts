import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Decimal } from '@suanli/money';
import {
  aggregateSnapshots,
  reportIsStale,
  share,
  signStatusReport,
  STATUS_REPORT_MAX_AGE_SECONDS,
  verifyStatusReport,
  type Directory,
  type MarketSnapshot,
} from './index.js';
import { codeOf, directoryOf, testPlatform } from './testing.js';

const NOW = 1_800_000_100;
type P = Awaited<ReturnType<typeof testPlatform>>;
let r03: P;
let i05: P;
let directory: Directory;

const snapshot = (o: Partial<MarketSnapshot> = {}): MarketSnapshot => ({
  windowHours: 24,
  resources: [{ class: 'AI', state: 'listed', count: 2 }],
  supply: [
    { class: 'AI', region: 'CN-GZ', resources: 2, online: 1, listedSlots: 8, leasedSlots: 2 },
  ],
  volume: [{ currency: 'CNY', suppressed: false, amount: '100.5' }],
  priceIndex: [
    {
      unit: 'scu.ai',
      currency: 'CNY',
      offers: 1,
      capacity: 8,
      mean: '5',
      min: '5',
      max: '5',
      traded: { suppressed: false, quantity: '10', amount: '50' },
    },
  ],
  ...o,
});

beforeAll(async () => {
  const n00 = await testPlatform('86.N00', 'national');
  r03 = await testPlatform('86.R03', 'regional');
  i05 = await testPlatform('86.I05', 'industry', 'suspended');
  directory = { typ: 'suanli.directory/v1', ...directoryOf([n00.entry, r03.entry, i05.entry]) };
});

const report = (p: P, iat = NOW) =>
  signStatusReport(
    {
      ...snapshot(),
      platform: p.code,
      iat,
      health: { status: 'ok', directorySerial: 1 },
    },
    p.key.privateJwk,
  );

describe('status reports', () => {
  it('verifies a report signed by a listed key of its own platform', async () => {
    const r = await verifyStatusReport(await report(r03), {
      directory,
      issuer: '86.R03',
      nowSeconds: NOW,
    });
    expect(r).toMatchObject({ platform: '86.R03', iat: NOW, supply: snapshot().supply });
  });

  it('refuses another key, another issuer, a suspended platform, an old or future report', async () => {
    const forged = await signStatusReport(
      { ...snapshot(), platform: '86.R03', iat: NOW, health: { status: 'ok', directorySerial: 1 } },
      i05.key.privateJwk,
    );
    const opts = { directory, issuer: '86.R03', nowSeconds: NOW };
    expect(await codeOf(verifyStatusReport(forged, opts))).toBe('bad_signature');
    expect(await codeOf(verifyStatusReport(await report(r03), { ...opts, issuer: '86.N00' }))).toBe(
      'untrusted_key',
    );
    expect(await codeOf(verifyStatusReport(await report(i05), { ...opts, issuer: '86.I05' }))).toBe(
      'suspended_platform',
    );
    const old = await report(r03, NOW - STATUS_REPORT_MAX_AGE_SECONDS - 1);
    expect(await codeOf(verifyStatusReport(old, opts))).toBe('expired');
    expect(await codeOf(verifyStatusReport(await report(r03, NOW + 3600), opts))).toBe(
      'not_yet_valid',
    );
    expect(await codeOf(verifyStatusReport('not.a.jws', opts))).toBe('malformed');
  });

  it('a platform is stale once its last report is older than the limit, or when it never reported', () => {
    expect(reportIsStale(undefined, 10_000, 3_000)).toBe(true);
    expect(reportIsStale(7_000, 10_000, 3_000)).toBe(false);
    expect(reportIsStale(6_999, 10_000, 3_000)).toBe(true);
  });
});

describe('aggregateSnapshots', () => {
  it('sums supply, combines the price index by capacity and leaves suppressed cells out', () => {
    const a = snapshot();
    const b = snapshot({
      supply: [
        { class: 'AI', region: 'CN-GZ', resources: 2, online: 2, listedSlots: 2, leasedSlots: 2 },
        { class: 'GEN', region: 'CN-BJ', resources: 1, online: 0, listedSlots: 0, leasedSlots: 0 },
      ],
      volume: [{ currency: 'CNY', suppressed: true, amount: null }],
      priceIndex: [
        {
          unit: 'scu.ai',
          currency: 'CNY',
          offers: 1,
          capacity: 2,
          mean: '10',
          min: '10',
          max: '10',
          traded: { suppressed: true, quantity: null, amount: null },
        },
      ],
    });
    const g = aggregateSnapshots([a, b]);
    expect(g.totals).toEqual({
      resources: 5,
      online: 3,
      listedSlots: 10,
      leasedSlots: 4,
      onlineShare: '0.6',
      utilization: '0.4',
    });
    expect(g.supply.map((c) => [c.class, c.region, c.resources])).toEqual([
      ['AI', 'CN-GZ', 4],
      ['GEN', 'CN-BJ', 1],
    ]);
    expect(g.volume).toEqual([{ currency: 'CNY', amount: '100.5', suppressedIn: 1 }]);
    // (5 × 8 + 10 × 2) / 10 = 6; traded from the unsuppressed cell only: 50 / 10 = 5
    expect(g.priceIndex).toEqual([
      {
        unit: 'scu.ai',
        currency: 'CNY',
        offers: 2,
        capacity: 10,
        listed: '6',
        min: '5',
        max: '10',
        traded: '5',
        tradedQuantity: '10',
        suppressedIn: 1,
      },
    ]);
  });

  it('the listed index of a federation equals the capacity-weighted mean of every offer (exact decimals)', () => {
    const offer = fc.record({
      price: fc.integer({ min: 1, max: 10_000_000 }).map((n) => new Decimal(n).div(1000)),
      capacity: fc.integer({ min: 1, max: 64 }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(offer, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
        (platforms) => {
          const snaps = platforms.map((offers) => {
            const cap = offers.reduce((t, o) => t + o.capacity, 0);
            const weighted = offers.reduce(
              (t, o) => t.plus(o.price.times(o.capacity)),
              new Decimal(0),
            );
            return snapshot({
              priceIndex: [
                {
                  unit: 'scu.gen',
                  currency: 'CNY',
                  offers: offers.length,
                  capacity: cap,
                  mean: weighted.div(cap).toDecimalPlaces(12).toString(),
                  min: Decimal.min(...offers.map((o) => o.price)).toString(),
                  max: Decimal.max(...offers.map((o) => o.price)).toString(),
                  traded: { suppressed: true, quantity: null, amount: null },
                },
              ],
            });
          });
          const all = platforms.flat();
          const cap = all.reduce((t, o) => t + o.capacity, 0);
          const expected = all
            .reduce((t, o) => t.plus(o.price.times(o.capacity)), new Decimal(0))
            .div(cap);
          const got = aggregateSnapshots(snaps).priceIndex[0]!;
          expect(new Decimal(got.listed!).minus(expected).abs().lte('0.000001')).toBe(true);
          expect(got.capacity).toBe(cap);
          expect(got.min).toBe(Decimal.min(...all.map((o) => o.price)).toString());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('shares are exact to 4 places and 0 over nothing', () => {
    expect(share(1, 3)).toBe('0.3333');
    expect(share(2, 3)).toBe('0.6667');
    expect(share(5, 0)).toBe('0');
  });
});
