import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { OfferView, OrderView, WalletView } from '@suanli/contracts';
import pg from 'pg';
import { apiClient } from '../../../../test/support/http.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(120_000);

const HOUR = 3_600_000;
type ErrorBody = {
  error: {
    code: string;
    details?: { field?: string; issues?: { path: string; message: string }[] };
  };
};
const paths = (b: ErrorBody) => (b.error.details?.issues ?? []).map((i) => i.path);

describe('offer pricing models, availability window and SLA (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  let db: pg.Client;
  let seller: Awaited<ReturnType<typeof sellerWithOffer>>;
  beforeAll(async () => {
    api = await startMarketApi();
    db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    seller = await sellerWithOffer(api);
  });
  afterAll(async () => {
    await db?.end();
    await api?.close();
  });

  const base = () => ({
    resourceId: seller.resource.id,
    title: 'H100 by model',
    currency: 'CNY',
    capacity: 4,
  });
  const create = (body: Record<string, unknown>) =>
    seller.seller.client.post<OfferView & ErrorBody>('/v1/offers', { ...base(), ...body });

  it('creates tiered, reserved and interruptible offers, stores their rows and a normalized price', async () => {
    const tiered = await create({
      pricingModel: 'tiered',
      prices: [
        {
          unit: 'scu.ai',
          tiers: [
            { upTo: '100', price: '9.00' },
            { upTo: null, price: '8.00' },
          ],
        },
      ],
    });
    expect(tiered.status).toBe(201);
    expect(tiered.body).toMatchObject({
      pricingModel: 'tiered',
      prices: [
        {
          unit: 'scu.ai',
          price: '9.00',
          model: 'tiered',
          tiers: [
            { upTo: '100', price: '9.00' },
            { upTo: null, price: '8.00' },
          ],
        },
      ],
      normalizedPrice: { unit: 'scu.ai', price: '9' },
      sla: { isDefault: true, target: '99.5' },
    });
    const reserved = await create({
      pricingModel: 'reserved',
      prices: [{ unit: 'slot_h', price: '10.00', reserved: { quantity: '10', price: '8.00' } }],
    });
    expect(reserved.status).toBe(201);
    expect(reserved.body.prices).toEqual([
      {
        unit: 'slot_h',
        price: '10.00',
        model: 'reserved',
        reserved: { quantity: '10', price: '8.00' },
      },
    ]);
    expect(reserved.body.normalizedPrice).not.toBeNull();
    const spot = await create({
      pricingModel: 'interruptible',
      prices: [{ unit: 'slot_h', price: '4.00' }],
    });
    expect(spot.status).toBe(201);
    // 跨架构比价: the catalog sorts all models by the stored normalized price.
    const rows = await db.query<{ id: string; pricing_model: string; normalized_price: string }>(
      `SELECT id, pricing_model, normalized_price::text FROM offers WHERE id = ANY($1)`,
      [[tiered.body.id, reserved.body.id, spot.body.id]],
    );
    expect(rows.rows.every((r) => r.normalized_price !== null)).toBe(true);
    const catalog = await apiClient(api.url).get<{ items: OfferView[] }>(
      '/v1/offers?sort=price&limit=100',
    );
    const ids = catalog.body.items.map((o) => o.id);
    expect(ids).toEqual(expect.arrayContaining([tiered.body.id, reserved.body.id, spot.body.id]));
    // Demand matching offers what can be ordered as is: bids go to the interruptible offer itself.
    const buyer = await signUpActor(api, ['buyer']);
    const demand = await buyer.client.post<{ items: { offer: { id: string } }[] }>('/v1/demands', {
      class: 'AI',
      slots: 1,
      hours: 1,
      currency: 'CNY',
      limit: 50,
    });
    expect(demand.status).toBe(200);
    const matched = demand.body.items.map((i) => i.offer.id);
    expect(matched).toEqual(expect.arrayContaining([tiered.body.id, reserved.body.id]));
    expect(matched).not.toContain(spot.body.id);
  });

  it('refuses rows that do not fit the model, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ pricingModel: 'tiered', prices: [{ unit: 'scu.ai', price: '9.00' }] }, 'prices.0.tiers'],
      [
        {
          pricingModel: 'tiered',
          prices: [
            {
              unit: 'scu.ai',
              tiers: [
                { upTo: '100', price: '9.00' },
                { upTo: '50', price: '8.00' },
                { upTo: null, price: '7.00' },
              ],
            },
          ],
        },
        'prices.0.tiers.1.upTo',
      ],
      [
        {
          pricingModel: 'tiered',
          prices: [{ unit: 'scu.ai', tiers: [{ upTo: '100', price: '9.00' }] }],
        },
        'prices.0.tiers.0.upTo',
      ],
      [
        {
          pricingModel: 'reserved',
          prices: [
            { unit: 'slot_h', price: '10.00', reserved: { quantity: '10', price: '12.00' } },
          ],
        },
        'prices.0.reserved.price',
      ],
      [
        { pricingModel: 'reserved', prices: [{ unit: 'slot_h', price: '10.00' }] },
        'prices.0.reserved',
      ],
      [
        {
          pricingModel: 'interruptible',
          prices: [
            { unit: 'slot_h', price: '4.00' },
            { unit: 'scu.ai', price: '1.00' },
          ],
        },
        'prices',
      ],
      [{ pricingModel: 'interruptible', prices: [{ unit: 'scu.ai', price: '4.00' }] }, 'prices'],
      [
        {
          pricingModel: 'fixed',
          prices: [{ unit: 'slot_h', price: '4.00', tiers: [{ upTo: null, price: '1' }] }],
        },
        'prices.0.tiers',
      ],
      [{ pricingModel: 'fixed', prices: [{ unit: 'slot_h', price: '0' }] }, 'prices.0.price'],
      [{ pricingModel: 'fixed', prices: [{ unit: 'slot_h', price: '-1.00' }] }, 'prices.0.price'],
      [{ pricingModel: 'auction', prices: [{ unit: 'slot_h', price: '1.00' }] }, 'pricingModel'],
      [{ currency: 'cny', prices: [{ unit: 'slot_h', price: '1.00' }] }, 'currency'],
      [{ prices: [{ unit: 'slot_h', price: '1.00' }], discount: '5' }, ''],
      [
        { prices: [{ unit: 'slot_h', price: '1.00' }], sla: { target: '101', schedule: [] } },
        'sla.target',
      ],
      [
        {
          prices: [{ unit: 'slot_h', price: '1.00' }],
          sla: { target: '99', schedule: [{ below: '99.9', credit: '10' }] },
        },
        'sla.schedule.0.below',
      ],
    ];
    for (const [body, path] of cases) {
      const r = await create(body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect({ body, paths: paths(r.body) }).toEqual({
        body,
        paths: expect.arrayContaining([path]),
      });
    }
    // An SLA whose credit does not rise as its threshold falls (or repeats a threshold).
    for (const schedule of [
      [
        { below: '99', credit: '25' },
        { below: '95', credit: '10' },
      ],
      [
        { below: '95', credit: '10' },
        { below: '95', credit: '20' },
      ],
    ]) {
      const r = await create({
        prices: [{ unit: 'slot_h', price: '1.00' }],
        sla: { target: '99', schedule },
      });
      expect({ schedule, status: r.status }).toEqual({ schedule, status: 400 });
      expect(r.body.error).toMatchObject({ code: 'validation_failed', details: { field: 'sla' } });
    }
  });

  it('refuses availability windows in the past, naming the field; orders stay inside the window', async () => {
    const now = api.clock.now().getTime();
    const iso = (ms: number) => new Date(now + ms).toISOString();
    const prices = [{ unit: 'slot_h', price: '2.00' }];
    const past = await create({ prices, availableUntil: iso(-HOUR) });
    expect(past.status).toBe(400);
    expect(past.body.error.details?.field).toBe('availableUntil');
    const lateStart = await create({ prices, availableFrom: iso(-2 * HOUR) });
    expect(lateStart.body.error.details?.field).toBe('availableFrom');
    const inverted = await create({
      prices,
      availableFrom: iso(3 * HOUR),
      availableUntil: iso(2 * HOUR),
    });
    expect(inverted.body.error.details?.field).toBe('availableUntil');
    const tooShort = await create({ prices, minHours: 3, availableUntil: iso(2 * HOUR) });
    expect(tooShort.body.error.details?.field).toBe('availableUntil');

    const windowed = await create({ prices, availableUntil: iso(3 * HOUR) });
    expect(windowed.status).toBe(201);
    expect(windowed.body.availableUntil).toBe(iso(3 * HOUR));
    const later = await create({
      prices,
      availableFrom: iso(2 * HOUR),
      availableUntil: iso(6 * HOUR),
    });
    expect(later.status).toBe(201);

    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const tooLong = await buyer.client.postIdempotent<ErrorBody>('/v1/orders', {
      offerId: windowed.body.id,
      slots: 1,
      hours: 4,
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details?.field).toBe('hours');
    const early = await buyer.client.postIdempotent<ErrorBody>('/v1/orders', {
      offerId: later.body.id,
      slots: 1,
      hours: 1,
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('capacity_unavailable');
    // Nothing was held for either refusal.
    const w = await buyer.client.get<WalletView>('/v1/wallet');
    expect(w.body.balances[0]).toMatchObject({ available: '100.00', held: '0.00' });
    expect(
      (
        await buyer.client.postIdempotent('/v1/orders', {
          offerId: windowed.body.id,
          slots: 1,
          hours: 3,
        })
      ).status,
    ).toBe(201);

    // Edits: a window moved into the past is refused; clearing it is fine.
    const edit = await seller.seller.client.patch<ErrorBody>(`/v1/offers/${windowed.body.id}`, {
      availableUntil: iso(-1),
    });
    expect(edit.status).toBe(400);
    expect(edit.body.error.details?.field).toBe('availableUntil');
    const cleared = await seller.seller.client.patch<OfferView>(`/v1/offers/${windowed.body.id}`, {
      availableUntil: null,
    });
    expect(cleared.body.availableUntil).toBeNull();
  });

  it('edits the pricing model and SLA; new prices are checked against the model', async () => {
    const o = await create({ prices: [{ unit: 'slot_h', price: '3.00' }] });
    const wrong = await seller.seller.client.patch<ErrorBody>(`/v1/offers/${o.body.id}`, {
      prices: [{ unit: 'scu.ai', tiers: [{ upTo: null, price: '1.00' }] }],
    });
    expect(wrong.status).toBe(400);
    expect(paths(wrong.body)).toEqual(['prices.0.price', 'prices.0.tiers']);
    const modelOnly = await seller.seller.client.patch<ErrorBody>(`/v1/offers/${o.body.id}`, {
      pricingModel: 'tiered',
    });
    expect(paths(modelOnly.body)).toContain('prices');
    const tiered = await seller.seller.client.patch<OfferView>(`/v1/offers/${o.body.id}`, {
      pricingModel: 'tiered',
      prices: [
        {
          unit: 'slot_h',
          tiers: [
            { upTo: '10', price: '3.00' },
            { upTo: null, price: '2.50' },
          ],
        },
      ],
      sla: { target: '99.9', schedule: [{ below: '99.9', credit: '20' }] },
    });
    expect(tiered.status).toBe(200);
    expect(tiered.body).toMatchObject({
      pricingModel: 'tiered',
      sla: { target: '99.9', schedule: [{ below: '99.9', credit: '20' }], isDefault: false },
    });
    const back = await seller.seller.client.patch<OfferView>(`/v1/offers/${o.body.id}`, {
      sla: null,
    });
    expect(back.body.sla.isDefault).toBe(true);
  });

  it("pins the offer's SLA and model on the lease; a reserved order prepays its block", async () => {
    const sla = {
      target: '99',
      schedule: [
        { below: '99', credit: '15' },
        { below: '90', credit: '50' },
      ],
    };
    const reserved = await create({
      pricingModel: 'reserved',
      prices: [{ unit: 'slot_h', price: '10.00', reserved: { quantity: '2', price: '8.00' } }],
      sla,
    });
    expect(reserved.status).toBe(201);
    expect(reserved.body.sla).toEqual({ ...sla, isDefault: false });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: reserved.body.id,
      slots: 1,
      hours: 3,
    });
    expect(order.status).toBe(201);
    const terms = await db.query<{ sla: unknown }>(
      'SELECT sla FROM lease_terms WHERE lease_id = $1',
      [order.body.lease.id],
    );
    expect(terms.rows[0].sla).toEqual(sla);
    const lease = await db.query<{ prices: unknown }>('SELECT prices FROM leases WHERE id = $1', [
      order.body.lease.id,
    ]);
    expect(lease.rows[0].prices).toEqual([
      {
        unit: 'slot_h',
        price: '10.00',
        model: 'reserved',
        reserved: { quantity: '2', price: '8.00' },
      },
    ]);
    // The block (2 × 8.00) is paid at once; the first hour's hold (10.00) is held.
    const block = await db.query<{ gross: string }>(
      `SELECT gross::text FROM debit_notes WHERE lease_id = $1 AND kind = 'reserved_block'`,
      [order.body.lease.id],
    );
    expect(block.rows.map((r) => r.gross)).toEqual(['16.000000000']);
    const w = await buyer.client.get<WalletView>('/v1/wallet');
    expect(w.body.balances[0]).toMatchObject({ available: '74.00', held: '10.00' });

    // An offer without an SLA pins nothing: the lease gets the default.
    const plain = await create({ prices: [{ unit: 'slot_h', price: '1.00' }] });
    const o2 = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: plain.body.id,
      slots: 1,
      hours: 1,
    });
    const none = await db.query('SELECT 1 FROM lease_terms WHERE lease_id = $1', [
      o2.body.lease.id,
    ]);
    expect(none.rowCount).toBe(0);
  });
});
