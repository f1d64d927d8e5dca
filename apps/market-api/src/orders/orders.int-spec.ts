import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { InvoiceView, LeaseView, OfferView, OrderView, WalletView } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import pg from 'pg';
import { apiClient } from '../../../../test/support/http.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(90_000);

describe('orders, escrow and capacity (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  beforeAll(async () => {
    api = await startMarketApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('never oversells capacity, whatever the concurrency', async () => {
    const { offer } = await sellerWithOffer(api, { capacity: 3 });
    const buyers = await Promise.all(Array.from({ length: 8 }, () => signUpActor(api, ['buyer'])));
    for (const b of buyers) await fundWallet(api, b.orgId, 'CNY', '100.00');
    const results = await Promise.all(
      buyers.map((b) =>
        b.client.postIdempotent<OrderView>('/v1/orders', { offerId: offer.id, slots: 1, hours: 2 }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const rejected = results.find((r) => r.status === 409)!.body as unknown as {
      error: { code: string };
    };
    expect(rejected.error.code).toBe('capacity_unavailable');
  });

  it('holds the first period in escrow: held + available = total, and refuses what the wallet cannot cover', async () => {
    const { offer } = await sellerWithOffer(api, { prices: [{ unit: 'slot_h', price: '10.00' }] });
    const buyer = await signUpActor(api, ['buyer']);
    const poor = await buyer.client.postIdempotent<{ error: { code: string } }>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    });
    expect(poor.status).toBe(422);
    expect(poor.body.error.code).toBe('insufficient_funds');
    await fundWallet(api, buyer.orgId, 'CNY', '25.00');
    const ok = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 2,
      hours: 3,
    });
    expect(ok.status).toBe(201);
    expect(ok.body.lease.state).toBe('active');
    const wallet = await buyer.client.get<WalletView>('/v1/wallet');
    expect(wallet.body.balances).toEqual([
      { currency: 'CNY', available: '5.00', held: '20.00', total: '25.00' },
    ]);
  });

  it('replays a retried order with the same Idempotency-Key and refuses the key for another body', async () => {
    const { offer } = await sellerWithOffer(api, { capacity: 5 });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const first = await buyer.client.postIdempotent<OrderView>(
      '/v1/orders',
      { offerId: offer.id, slots: 1, hours: 1 },
      'order-key-0001',
    );
    const retry = await buyer.client.postIdempotent<OrderView>(
      '/v1/orders',
      { offerId: offer.id, slots: 1, hours: 1 },
      'order-key-0001',
    );
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const other = await buyer.client.postIdempotent<{ error: { code: string } }>(
      '/v1/orders',
      { offerId: offer.id, slots: 2, hours: 1 },
      'order-key-0001',
    );
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_conflict');
    const wallet = await buyer.client.get<WalletView>('/v1/wallet');
    expect(wallet.body.balances[0].held).toBe('10.00');
    const missing = await buyer.client.post('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    });
    expect(missing.status).toBe(400);
  });

  it('shows a lease to its buyer and seller only: 404 for anyone else', async () => {
    const { offer, seller } = await sellerWithOffer(api);
    const buyer = await signUpActor(api, ['buyer']);
    const other = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '50.00');
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    });
    const path = `/v1/leases/${order.body.lease.id}`;
    expect((await buyer.client.get(path)).status).toBe(200);
    expect((await seller.client.get(path)).status).toBe(200);
    expect((await other.client.get(path)).status).toBe(404);
    expect((await other.client.get(`${path}/usage`)).status).toBe(404);
    expect((await other.client.get('/v1/leases/not-a-uuid')).status).toBe(400);
  });

  it('refuses orders outside the offer terms', async () => {
    const { offer, seller } = await sellerWithOffer(api);
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '50.00');
    const tooLong = await buyer.client.postIdempotent('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 10_000,
    });
    expect(tooLong.status).toBe(400);
    const own = await seller.client.postIdempotent('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    });
    expect(own.status).toBe(403);
    const unknown = await buyer.client.postIdempotent('/v1/orders', {
      offerId: '00000000-0000-4000-8000-000000000000',
      slots: 1,
      hours: 1,
    });
    expect(unknown.status).toBe(404);
  });

  it('accepts exactly capacity out of 200 concurrent orders, refusing the rest with a reason', async () => {
    const { offer } = await sellerWithOffer(api, { capacity: 10 });
    const buyers = await Promise.all(Array.from({ length: 20 }, () => signUpActor(api, ['buyer'])));
    for (const b of buyers) await fundWallet(api, b.orgId, 'CNY', '1000.00');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        buyers[i % buyers.length].client.postIdempotent<{ error?: { code: string } }>(
          '/v1/orders',
          { offerId: offer.id, slots: 1, hours: 1 },
        ),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(190);
    for (const r of refused) expect(r.body.error?.code).toBe('capacity_unavailable');
    // Nothing is held for a refused order: 10 holds of 10.00 in all.
    let held = new Decimal(0);
    for (const b of buyers) {
      const w = await b.client.get<WalletView>('/v1/wallet');
      held = held.plus(w.body.balances[0].held);
    }
    expect(held.toString()).toBe('100');
  });

  it('never sells a resource twice: 200 concurrent orders over four offers of one resource take exactly its capacity', async () => {
    // Issue #18: on a resource of capacity 2, three slots were leased at once through two offers.
    const { seller, resource, offer } = await sellerWithOffer(api, {
      capacity: 10,
      resourceCapacity: 10,
    });
    const more: OfferView[] = [];
    for (const [i, capacity] of [6, 10, 4].entries()) {
      const r = await seller.client.post<OfferView>('/v1/offers', {
        resourceId: resource.id,
        title: `same node, offer ${i + 2}`,
        currency: 'CNY',
        capacity,
        pricingModel: 'fixed',
        prices: [{ unit: 'slot_h', price: '10.00' }],
      });
      expect(r.status).toBe(201);
      more.push(r.body);
    }
    const offers = [offer, ...more];
    const buyers = await Promise.all(Array.from({ length: 20 }, () => signUpActor(api, ['buyer'])));
    for (const b of buyers) await fundWallet(api, b.orgId, 'CNY', '1000.00');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        buyers[i % buyers.length].client.postIdempotent<OrderView & { error?: { code: string } }>(
          '/v1/orders',
          { offerId: offers[i % offers.length].id, slots: 1, hours: 1 },
        ),
      ),
    );
    const accepted = results.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(10);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error?.code).toBe('capacity_unavailable');
    }
    // No offer went past its own cap either.
    for (const o of offers) {
      const mine = accepted.filter((r) => r.body.offerId === o.id).length;
      expect(mine).toBeLessThanOrEqual(o.capacity);
    }
    // The database agrees: open leases on the resource hold exactly its capacity.
    const db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    const held = await db.query<{ slots: number }>(
      `SELECT COALESCE(SUM(slots), 0)::int AS slots FROM leases
        WHERE resource_id = $1 AND state IN ('pending', 'active', 'suspended')`,
      [resource.id],
    );
    await db.end();
    expect(held.rows[0].slots).toBe(10);
    // Every offer of the full resource shows nothing left, whatever its own cap.
    for (const o of offers) {
      expect((await buyers[0].client.get<OfferView>(`/v1/offers/${o.id}`)).body.available).toBe(0);
    }
    let total = new Decimal(0);
    for (const b of buyers) {
      const w = await b.client.get<WalletView>('/v1/wallet');
      total = total.plus(w.body.balances[0].held);
    }
    expect(total.toString()).toBe('100');
  });

  it('keeps offers within their resource: no offer above its capacity, no capacity cut below what is leased or offered', async () => {
    const { seller, resource, offer } = await sellerWithOffer(api, {
      capacity: 2,
      resourceCapacity: 2,
    });
    const body = {
      resourceId: resource.id,
      title: 'too big',
      currency: 'CNY',
      capacity: 3,
      pricingModel: 'fixed',
      prices: [{ unit: 'slot_h', price: '10.00' }],
    };
    const tooBig = await seller.client.post<{ error: { details: Record<string, unknown> } }>(
      '/v1/offers',
      body,
    );
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.details).toMatchObject({ field: 'capacity', resourceCapacity: 2 });
    const raise = await seller.client.patch(`/v1/offers/${offer.id}`, { capacity: 3 });
    expect(raise.status).toBe(400);
    const second = await seller.client.post<OfferView>('/v1/offers', { ...body, capacity: 2 });
    expect(second.status).toBe(201);
    const under = await seller.client.patch<{ error: { details: Record<string, unknown> } }>(
      `/v1/resources/${resource.id}`,
      { capacity: 1 },
    );
    expect(under.status).toBe(400);
    expect(under.body.error.details).toMatchObject({ field: 'capacity' });
    expect((under.body.error.details.offers as string[]).sort()).toEqual(
      [offer.id, second.body.id].sort(),
    );
    // The prober's case: capacity 2, two offers, three one-slot orders: the third is refused.
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const order = (offerId: string) =>
      buyer.client.postIdempotent<{ error?: { code: string } }>('/v1/orders', {
        offerId,
        slots: 1,
        hours: 1,
      });
    expect((await order(offer.id)).status).toBe(201);
    expect((await order(second.body.id)).status).toBe(201);
    const third = await order(second.body.id);
    expect(third.status).toBe(409);
    expect(third.body.error?.code).toBe('capacity_unavailable');
    expect((await order(offer.id)).status).toBe(409);
    // The resource cannot shrink under its leases, nor under an open offer's capacity.
    const cut = await seller.client.patch<{ error: { details: Record<string, unknown> } }>(
      `/v1/resources/${resource.id}`,
      { capacity: 1 },
    );
    expect(cut.status).toBe(400);
    expect(cut.body.error.details).toMatchObject({ field: 'capacity', inUse: 2 });
    const grow = await seller.client.patch(`/v1/resources/${resource.id}`, { capacity: 3 });
    expect(grow.status).toBe(200);
    expect((await order(offer.id)).status).toBe(201);
  });

  it('lets the buyer cancel and the seller terminate; settlement bills up to the end and invoices', async () => {
    const { offer, seller, resource, agent } = await sellerWithOffer(api, { capacity: 4 });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const t0 = api.clock.now();
    // The resource is online every minute, so no SLA credit muddies the figures.
    const db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    await db.query(
      `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status)
       SELECT $1, $2::timestamptz + make_interval(mins => m), $3, 'online' FROM generate_series(0, 59) m
       ON CONFLICT DO NOTHING`,
      [resource.id, t0.toISOString(), agent.id],
    );
    await db.end();
    const a = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 5,
    });
    const b = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 5,
    });
    api.clock.set(new Date(t0.getTime() + 30 * 60_000));
    expect((await seller.client.post(`/v1/leases/${a.body.lease.id}/cancel`, {})).status).toBe(403);
    const cancelled = await buyer.client.post<LeaseView>(
      `/v1/leases/${a.body.lease.id}/cancel`,
      {},
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ state: 'ended', endReason: 'cancelled_by_buyer' });
    expect((await buyer.client.post(`/v1/leases/${a.body.lease.id}/cancel`, {})).status).toBe(409);
    const terminated = await seller.client.post<LeaseView>(
      `/v1/leases/${b.body.lease.id}/terminate`,
      {},
    );
    expect(terminated.body).toMatchObject({ state: 'ended', endReason: 'terminated_by_seller' });
    api.clock.set(new Date(t0.getTime() + 60 * 60_000));
    const op = apiClient(api.url, await api.operatorToken());
    expect((await op.post('/v1/admin/settlement/run', {})).status).toBe(200);
    const invoices = await buyer.client.get<{ items: InvoiceView[] }>('/v1/invoices');
    const mine = invoices.body.items.filter((i) =>
      [a.body.lease.id, b.body.lease.id].includes(i.leaseId),
    );
    // Half an hour of one slot at 10.00 each.
    expect(mine.map((i) => i.total)).toEqual(['5.00', '5.00']);
    const wallet = await buyer.client.get<WalletView>('/v1/wallet');
    expect(wallet.body.balances[0]).toMatchObject({ available: '90.00', held: '0.00' });
  });
});
