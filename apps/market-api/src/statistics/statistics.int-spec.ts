import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import type { MarketStatisticsView, OrderView } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import type { MarketOverview } from './statistics.service.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { reportOnline } from '../settlement/testing/settlement-fixtures.js';

jest.setTimeout(180_000);
const HOUR = 3_600_000;
let api: TestMarketApi;

beforeAll(async () => {
  api = await startMarketApi();
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('market statistics', () => {
  it('publishes volume and price per class, region and day; suppresses cells under k = 5', async () => {
    const ds = api.app.get(DataSource);
    const t0 = api.clock.now();
    // Five distinct sellers and buyers trade in CNY (one lease each, 2 h) — one visible cell;
    // four pairs trade in USD — a cell with 4 < k buyers and sellers, suppressed.
    const pairs = [
      ...['10.00', '11.00', '12.00', '13.00', '14.00'].map((price) => ({ price, currency: 'CNY' })),
      ...['3.00', '3.00', '3.00', '3.00'].map((price) => ({ price, currency: 'USD' })),
    ];
    const normalized: Record<string, string[]> = { CNY: [], USD: [] };
    for (const p of pairs) {
      const { offer } = await sellerWithOffer(api, {
        currency: p.currency,
        prices: [{ unit: 'slot_h', price: p.price }],
      });
      expect(offer.normalizedPrice?.unit).toBe('scu.ai');
      normalized[p.currency]!.push(offer.normalizedPrice!.price);
      const buyer = await signUpActor(api, ['buyer']);
      await fundWallet(api, buyer.orgId, p.currency, '100.00');
      const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
        offerId: offer.id,
        slots: 1,
        hours: 2,
      });
      expect(order.status).toBe(201);
      const [{ resource_id: r }] = (await ds.query('SELECT resource_id FROM leases WHERE id = $1', [
        order.body.lease.id,
      ])) as { resource_id: string }[];
      await reportOnline(ds, r, t0, new Date(t0.getTime() + 2 * HOUR));
    }
    const operator = apiClient(api.url, await api.operatorToken());
    api.clock.advance(2 * HOUR);
    await operator.post('/v1/admin/settlement/run', {});

    const anyone = apiClient(api.url);
    const stats = await anyone.get<MarketStatisticsView>(
      `/v1/statistics/market?bucket=day&from=${encodeURIComponent(new Date(t0.getTime() - 86_400_000).toISOString())}&to=${encodeURIComponent(new Date(t0.getTime() + 86_400_000).toISOString())}`,
    );
    expect(stats.status).toBe(200);
    expect(stats.body.k).toBe(5);
    const day = new Date(Date.UTC(t0.getUTCFullYear(), t0.getUTCMonth(), t0.getUTCDate()));
    expect(stats.body.cells).toEqual([
      {
        bucket: day.toISOString(),
        class: 'AI',
        region: 'CN-SH',
        currency: 'CNY',
        suppressed: false,
        slotHours: '10',
        volume: '120.00',
        pricePerSlotHour: '12.00',
      },
      {
        bucket: day.toISOString(),
        class: 'AI',
        region: 'CN-SH',
        currency: 'USD',
        suppressed: true,
        slotHours: null,
        volume: null,
        pricePerSlotHour: null,
      },
    ]);
    // Filters narrow the cells; a filter cannot un-suppress a cell.
    const usd = await anyone.get<MarketStatisticsView>(
      `/v1/statistics/market?currency=USD&class=AI&region=CN-SH&bucket=hour&from=${encodeURIComponent(t0.toISOString())}&to=${encodeURIComponent(new Date(t0.getTime() + 2 * HOUR).toISOString())}`,
    );
    expect(usd.body.cells).toHaveLength(2);
    expect(usd.body.cells.every((c) => c.suppressed && c.volume === null)).toBe(true);
    const cnyHourly = await anyone.get<MarketStatisticsView>(
      `/v1/statistics/market?currency=CNY&bucket=hour&from=${encodeURIComponent(t0.toISOString())}&to=${encodeURIComponent(new Date(t0.getTime() + 2 * HOUR).toISOString())}`,
    );
    expect(cnyHourly.body.cells.map((c) => [c.volume, c.pricePerSlotHour])).toEqual([
      ['60.00', '12.00'],
      ['60.00', '12.00'],
    ]);
    expect((await anyone.get('/v1/statistics/market?bucket=year')).status).toBe(400);

    // The overview (what the platform's status report carries): supply, k-anonymous volume and
    // the price index per standard unit, listed from the offers' normalized prices.
    const overview = await anyone.get<MarketOverview>('/v1/statistics/overview?windowHours=24');
    expect(overview.status).toBe(200);
    const { snapshot, aggregate } = overview.body;
    expect(snapshot.volume).toEqual([
      { currency: 'CNY', suppressed: false, amount: '120.00' },
      { currency: 'USD', suppressed: true, amount: null },
    ]);
    expect(aggregate.totals).toMatchObject({ resources: 9, listedSlots: 18, leasedSlots: 0 });
    expect(snapshot.resources.reduce((t, r) => t + r.count, 0)).toBe(9);
    const mean = (xs: string[]) =>
      xs
        .reduce((t, x) => t.plus(x), new Decimal(0))
        .div(xs.length)
        .toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN)
        .toString();
    const min = (xs: string[]) => Decimal.min(...xs).toString();
    // slot-hour lines only: nothing traded per standard unit, so no traded index
    expect(aggregate.priceIndex).toEqual([
      {
        unit: 'scu.ai',
        currency: 'CNY',
        offers: 5,
        capacity: 10,
        listed: mean(normalized.CNY!),
        min: min(normalized.CNY!),
        max: Decimal.max(...normalized.CNY!).toString(),
        traded: null,
        tradedQuantity: '0',
        suppressedIn: 0,
      },
      {
        unit: 'scu.ai',
        currency: 'USD',
        offers: 4,
        capacity: 8,
        listed: mean(normalized.USD!),
        min: min(normalized.USD!),
        max: min(normalized.USD!),
        traded: null,
        tradedQuantity: '0',
        suppressedIn: 0,
      },
    ]);
    expect((await anyone.get('/v1/statistics/overview?windowHours=0')).status).toBe(400);
    expect(
      (await anyone.get('/v1/statistics/market?from=2026-11-28T10:00:00Z&to=2026-11-27T10:00:00Z'))
        .status,
    ).toBe(400);
  });
});
