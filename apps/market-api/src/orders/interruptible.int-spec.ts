import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  InvoiceView,
  LeaseInterruptionView,
  LeaseView,
  OfferView,
  OrderView,
  WalletView,
} from '@suanli/contracts';
import pg from 'pg';
import { apiClient } from '../../../../test/support/http.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(120_000);

const MIN = 60_000;
type ErrorBody = { error: { code: string; details?: { field?: string } } };

describe('interruptible offers: the highest bids run (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  let db: pg.Client;
  beforeAll(async () => {
    api = await startMarketApi();
    db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await api?.close();
  });

  async function interruptibleOffer(
    capacity: number,
    floor: string,
    fixed: Parameters<typeof sellerWithOffer>[1] = {},
  ) {
    const s = await sellerWithOffer(api, fixed);
    const created = await s.seller.client.post<OfferView>('/v1/offers', {
      resourceId: s.resource.id,
      title: 'H100 spot',
      currency: 'CNY',
      capacity,
      pricingModel: 'interruptible',
      prices: [{ unit: 'slot_h', price: floor }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      pricingModel: 'interruptible',
      prices: [{ unit: 'slot_h', price: floor, model: 'interruptible' }],
    });
    return { ...s, spot: created.body };
  }

  async function buyer() {
    const b = await signUpActor(api, ['buyer']);
    await fundWallet(api, b.orgId, 'CNY', '100.00');
    return b;
  }

  const events = async (leaseId: string) =>
    (
      await db.query<{ type: string; reason: string | null }>(
        `SELECT type, payload->>'reason' AS reason FROM lease_events_outbox
         WHERE lease_id = $1 ORDER BY id`,
        [leaseId],
      )
    ).rows;

  it('pauses the lowest bid when capacity runs out, resumes it when capacity frees, and bills only run time', async () => {
    const t0 = api.clock.now();
    const { spot, seller, resource, agent } = await interruptibleOffer(2, '5.00');
    // Online every minute, so no SLA credit muddies the figures.
    await db.query(
      `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status)
       SELECT $1, $2::timestamptz + make_interval(mins => m), $3, 'online' FROM generate_series(0, 59) m
       ON CONFLICT DO NOTHING`,
      [resource.id, t0.toISOString(), agent.id],
    );
    const [a, b, c, d] = [await buyer(), await buyer(), await buyer(), await buyer()];
    const order = (who: typeof a, bid: string | undefined, slots = 1) =>
      who.client.postIdempotent<OrderView & ErrorBody>('/v1/orders', {
        offerId: spot.id,
        slots,
        hours: 1,
        ...(bid === undefined ? {} : { bid }),
      });

    // Bad bids: none, under the floor, on a fixed offer.
    const none = await order(a, undefined);
    expect(none.status).toBe(400);
    expect(none.body.error.details?.field).toBe('bid');
    const under = await order(a, '4.99');
    expect(under.status).toBe(400);
    expect(under.body.error.details?.field).toBe('bid');
    const fixed = await sellerWithOffer(api);
    const onFixed = await a.client.postIdempotent<ErrorBody>('/v1/orders', {
      offerId: fixed.offer.id,
      slots: 1,
      hours: 1,
      bid: '6.00',
    });
    expect(onFixed.status).toBe(400);
    expect(onFixed.body.error.details?.field).toBe('bid');

    const la = await order(a, '6.00');
    const lb = await order(b, '7.00');
    expect([la.status, lb.status]).toEqual([201, 201]);
    expect(la.body.bid).toBe('6.00');
    expect(la.body.lease).toMatchObject({ bid: '6.00', paused: false, state: 'active' });

    // A higher bid takes A's slot; A is paused, with the reason.
    api.clock.set(new Date(t0.getTime() + 10 * MIN));
    const lc = await order(c, '8.00');
    expect(lc.status).toBe(201);
    const aNow = await a.client.get<LeaseView>(`/v1/leases/${la.body.lease.id}`);
    expect(aNow.body).toMatchObject({ paused: true, state: 'active' });
    expect((await b.client.get<LeaseView>(`/v1/leases/${lb.body.lease.id}`)).body.paused).toBe(
      false,
    );
    expect((await apiClient(api.url).get<OfferView>(`/v1/offers/${spot.id}`)).body.available).toBe(
      0,
    );

    // A bid under every running bid is refused; nothing is held for it, nothing is paused.
    const ld = await order(d, '5.50');
    expect(ld.status).toBe(409);
    expect(ld.body.error).toMatchObject({ code: 'capacity_unavailable' });
    expect(ld.body.error.details?.field).toBe('bid');
    const dWallet = await d.client.get<WalletView>('/v1/wallet');
    expect(dWallet.body.balances[0]).toMatchObject({ available: '100.00', held: '0.00' });
    // More slots than the offer has, whatever the bid.
    expect((await order(d, '50.00', 3)).status).toBe(409);

    // C leaves: capacity frees and A resumes.
    api.clock.set(new Date(t0.getTime() + 30 * MIN));
    expect((await c.client.post(`/v1/leases/${lc.body.lease.id}/cancel`, {})).status).toBe(200);
    expect((await a.client.get<LeaseView>(`/v1/leases/${la.body.lease.id}`)).body.paused).toBe(
      false,
    );
    const history = await a.client.get<{ items: LeaseInterruptionView[] }>(
      `/v1/leases/${la.body.lease.id}/interruptions`,
    );
    expect(history.body.items).toEqual([
      {
        pausedAt: new Date(t0.getTime() + 10 * MIN).toISOString(),
        pauseReason: 'outbid',
        resumedAt: new Date(t0.getTime() + 30 * MIN).toISOString(),
        resumeReason: 'capacity_freed',
      },
    ]);
    // The seller sees it too; another organization does not.
    expect((await seller.client.get(`/v1/leases/${la.body.lease.id}/interruptions`)).status).toBe(
      200,
    );
    expect((await d.client.get(`/v1/leases/${la.body.lease.id}/interruptions`)).status).toBe(404);
    // Each change is a lease event with its reason, for metering.
    expect(await events(la.body.lease.id)).toEqual([
      { type: 'lease.started', reason: null },
      { type: 'lease.suspended', reason: 'outbid' },
      { type: 'lease.resumed', reason: 'capacity_freed' },
    ]);

    // Settlement bills the time each lease ran, at its bid.
    api.clock.set(new Date(t0.getTime() + 60 * MIN));
    const op = apiClient(api.url, await api.operatorToken());
    expect((await op.post('/v1/admin/settlement/run', {})).status).toBe(200);
    const invoiceOf = async (who: typeof a, leaseId: string) =>
      (await who.client.get<{ items: InvoiceView[] }>('/v1/invoices')).body.items.find(
        (i) => i.leaseId === leaseId,
      );
    // A: 40 of 60 minutes at 6.00 = 4.00; B: the hour at 7.00; C: 20 minutes at 8.00 = 2.666… → 2.67.
    expect((await invoiceOf(a, la.body.lease.id))?.subtotal).toBe('4.00');
    expect((await invoiceOf(b, lb.body.lease.id))?.subtotal).toBe('7.00');
    expect((await invoiceOf(c, lc.body.lease.id))?.subtotal).toBe('2.67');
    const aLines = (await invoiceOf(a, la.body.lease.id))?.lines ?? [];
    expect(aLines).toEqual([
      expect.objectContaining({ unit: 'slot_h', unitPrice: '6.00', amount: '4.00' }),
    ]);
    expect(aLines[0].quantity.startsWith('0.666666')).toBe(true);
  });

  it('a smaller capacity pauses the lowest bids, a larger one resumes them; ended leases free capacity in the settlement sweep', async () => {
    const t0 = api.clock.now();
    const { spot, seller, beat } = await interruptibleOffer(2, '5.00');
    const [a, b, c] = [await buyer(), await buyer(), await buyer()];
    const la = await a.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: spot.id,
      slots: 1,
      hours: 1,
      bid: '9.00',
    });
    const lb = await b.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: spot.id,
      slots: 1,
      hours: 2,
      bid: '6.00',
    });
    expect([la.status, lb.status]).toEqual([201, 201]);
    api.clock.set(new Date(t0.getTime() + 5 * MIN));
    const shrink = await seller.client.patch<OfferView>(`/v1/offers/${spot.id}`, { capacity: 1 });
    expect(shrink.status).toBe(200);
    expect((await b.client.get<LeaseView>(`/v1/leases/${lb.body.lease.id}`)).body.paused).toBe(
      true,
    );
    api.clock.set(new Date(t0.getTime() + 15 * MIN));
    await seller.client.patch<OfferView>(`/v1/offers/${spot.id}`, { capacity: 2 });
    expect((await b.client.get<LeaseView>(`/v1/leases/${lb.body.lease.id}`)).body.paused).toBe(
      false,
    );
    // A new higher bid pauses B again; when A completes on its own, settlement resumes B.
    api.clock.set(new Date(t0.getTime() + 20 * MIN));
    await beat(); // the agent is still there: the resource is online
    const lc = await c.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: spot.id,
      slots: 1,
      hours: 3,
      bid: '7.00',
    });
    expect(lc.status).toBe(201);
    expect((await b.client.get<LeaseView>(`/v1/leases/${lb.body.lease.id}`)).body.paused).toBe(
      true,
    );
    api.clock.set(new Date(t0.getTime() + 61 * MIN));
    const op = apiClient(api.url, await api.operatorToken());
    expect((await op.post('/v1/admin/settlement/run', {})).status).toBe(200);
    expect((await a.client.get<LeaseView>(`/v1/leases/${la.body.lease.id}`)).body.state).toBe(
      'ended',
    );
    expect((await b.client.get<LeaseView>(`/v1/leases/${lb.body.lease.id}`)).body.paused).toBe(
      false,
    );
    const history = await b.client.get<{ items: LeaseInterruptionView[] }>(
      `/v1/leases/${lb.body.lease.id}/interruptions`,
    );
    expect(history.body.items.map((i) => [i.pauseReason, i.resumeReason])).toEqual([
      ['capacity_reduced', 'capacity_raised'],
      ['outbid', 'capacity_freed'],
    ]);
    // B's first hour: paused 5–15 and 20–60 min → ran 10 minutes at 6.00 = 1.00.
    const notes = await db.query<{ gross: string }>(
      `SELECT gross::text FROM debit_notes WHERE lease_id = $1 AND kind = 'period'
       ORDER BY period_start`,
      [lb.body.lease.id],
    );
    expect(notes.rows.map((r) => r.gross)).toEqual(['1.000000000']);
  });
  it('starts, pauses, resumes and ends leases on whole seconds, whatever the clock says', async () => {
    const t0 = api.clock.now();
    const { spot } = await interruptibleOffer(1, '5.00');
    const [a, b] = [await buyer(), await buyer()];
    const order = (who: typeof a, bid: string) =>
      who.client.postIdempotent<OrderView>('/v1/orders', {
        offerId: spot.id,
        slots: 1,
        hours: 1,
        bid,
      });
    api.clock.set(new Date(t0.getTime() + 750));
    const la = await order(a, '6.00');
    expect(la.status).toBe(201);
    expect([la.body.lease.startsAt, la.body.lease.endsAt]).toEqual([
      t0.toISOString(),
      new Date(t0.getTime() + 60 * MIN).toISOString(),
    ]);
    // B outbids A at 10 min 0.400 s, and cancels at 20 min 0.900 s: A resumes.
    api.clock.set(new Date(t0.getTime() + 10 * MIN + 400));
    const lb = await order(b, '7.00');
    expect(lb.status).toBe(201);
    api.clock.set(new Date(t0.getTime() + 20 * MIN + 900));
    const cancelled = await b.client.post<LeaseView>(`/v1/leases/${lb.body.lease.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect([cancelled.body.startsAt, cancelled.body.endedAt]).toEqual([
      new Date(t0.getTime() + 10 * MIN).toISOString(),
      new Date(t0.getTime() + 20 * MIN).toISOString(),
    ]);
    const history = await a.client.get<{ items: LeaseInterruptionView[] }>(
      `/v1/leases/${la.body.lease.id}/interruptions`,
    );
    expect(history.body.items.map((i) => [i.pausedAt, i.resumedAt])).toEqual([
      [
        new Date(t0.getTime() + 10 * MIN).toISOString(),
        new Date(t0.getTime() + 20 * MIN).toISOString(),
      ],
    ]);
  });

  it('bids share the resource with its other offers: they get what fixed leases leave, and the sweep hands back what those free', async () => {
    const t0 = api.clock.now();
    const { spot, ...s } = await interruptibleOffer(3, '1.00', {
      capacity: 2,
      resourceCapacity: 3,
    });
    const [a, b, f] = [await buyer(), await buyer(), await buyer()];
    const held = async () =>
      (
        await db.query<{ slots: number }>(
          `SELECT COALESCE(SUM(slots), 0)::int AS slots FROM leases WHERE resource_id = $1
             AND state IN ('pending', 'active', 'suspended') AND paused_at IS NULL`,
          [s.resource.id],
        )
      ).rows[0].slots;
    const la = await a.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: spot.id,
      slots: 2,
      hours: 2,
      bid: '2.00',
    });
    expect(la.status).toBe(201);
    // Two of the three slots run bids: a fixed order for two finds one.
    const fixed2 = await f.client.postIdempotent<ErrorBody>('/v1/orders', {
      offerId: s.offer.id,
      slots: 2,
      hours: 1,
    });
    expect(fixed2.status).toBe(409);
    expect(fixed2.body.error.code).toBe('capacity_unavailable');
    const lf = await f.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: s.offer.id,
      slots: 1,
      hours: 1,
    });
    expect(lf.status).toBe(201);
    expect(await held()).toBe(3);
    // A higher bid gets the spot offer's share of what is left (2 slots): A no longer fits.
    api.clock.set(new Date(t0.getTime() + 5 * MIN));
    const lb = await b.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: spot.id,
      slots: 1,
      hours: 2,
      bid: '3.00',
    });
    expect(lb.status).toBe(201);
    expect((await a.client.get<LeaseView>(`/v1/leases/${la.body.lease.id}`)).body.paused).toBe(
      true,
    );
    expect(await held()).toBe(2);
    // The fixed lease ends: its slot goes back to the bids at once.
    api.clock.set(new Date(t0.getTime() + 10 * MIN));
    expect((await f.client.post(`/v1/leases/${lf.body.lease.id}/cancel`, {})).status).toBe(200);
    expect((await a.client.get<LeaseView>(`/v1/leases/${la.body.lease.id}`)).body.paused).toBe(
      false,
    );
    expect(await held()).toBe(3);
    // A fixed order now finds the resource full; a larger resource lets it in.
    const full = await f.client.postIdempotent<ErrorBody>('/v1/orders', {
      offerId: s.offer.id,
      slots: 1,
      hours: 1,
    });
    expect(full.status).toBe(409);
    expect(
      (await s.seller.client.patch(`/v1/resources/${s.resource.id}`, { capacity: 4 })).status,
    ).toBe(200);
    const fits = await f.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: s.offer.id,
      slots: 1,
      hours: 1,
    });
    expect(fits.status).toBe(201);
    expect(await held()).toBe(4);
    const history = await a.client.get<{ items: LeaseInterruptionView[] }>(
      `/v1/leases/${la.body.lease.id}/interruptions`,
    );
    expect(history.body.items.map((i) => [i.pauseReason, i.resumeReason])).toEqual([
      ['outbid', 'capacity_freed'],
    ]);
  });
});
