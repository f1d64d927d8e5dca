import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { InvoiceView, LeaseView, OrderView, WalletView } from '@suanli/contracts';
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
       SELECT $1, $2::timestamptz + make_interval(mins => m), $3, 'online' FROM generate_series(0, 59) m`,
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
