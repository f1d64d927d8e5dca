import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { OrderView } from '@suanli/contracts';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { TopUpsService } from '../payments/top-ups.service.js';

// An instance that dies mid-request leaves its Idempotency-Key row unanswered. The client's
// retry with the same key must neither fail forever nor run the request twice.
let api: TestMarketApi;
let db: DataSource;

beforeAll(async () => {
  api = await startMarketApi();
  db = api.app.get<DataSource>(getDataSourceToken());
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('idempotency after a crash', () => {
  it('takes over a stale unanswered key only when nothing of it committed', async () => {
    const { offer } = await sellerWithOffer(api, { capacity: 10 });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
    const body = { offerId: offer.id, slots: 1, hours: 1 };
    const first = await buyer.client.postIdempotent<OrderView>(
      '/v1/orders',
      body,
      'order-key-0001',
    );
    expect(first.status).toBe(201);
    // The rows a crashed attempt leaves (same scope and body as the first request).
    const crashed = async (key: string, status: number | null, ageSeconds: number) =>
      db.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, status_code, created_at)
         SELECT scope, $1, request_hash, $2, now() - make_interval(secs => $3)
           FROM idempotency_keys WHERE key = 'order-key-0001'`,
        [key, status, ageSeconds],
      );
    const orders = async () =>
      Number(
        (
          await db.query<{ n: string }[]>(
            'SELECT COUNT(*)::text AS n FROM orders WHERE buyer_org_id = $1',
            [buyer.orgId],
          )
        )[0].n,
      );

    // Died before anything committed, long ago: the retry runs it, once.
    await crashed('order-key-dead', null, 120);
    const retried = await buyer.client.postIdempotent<OrderView>(
      '/v1/orders',
      body,
      'order-key-dead',
    );
    expect(retried.status).toBe(201);
    expect(await orders()).toBe(2);
    const again = await buyer.client.postIdempotent<OrderView>(
      '/v1/orders',
      body,
      'order-key-dead',
    );
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(retried.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await orders()).toBe(2);

    // Died a moment ago: it may still be running somewhere → 409, try again later.
    await crashed('order-key-busy', null, 0);
    const busy = await buyer.client.postIdempotent('/v1/orders', body, 'order-key-busy');
    expect(busy.status).toBe(409);

    // Its effects committed, its answer was lost: never run again.
    await crashed('order-key-done', 0, 120);
    const done = await buyer.client.postIdempotent<{ error: { details: unknown } }>(
      '/v1/orders',
      body,
      'order-key-done',
    );
    expect(done.status).toBe(409);
    expect(done.body.error.details).toEqual({ idempotency: 'outcome_unknown' });
    expect(await orders()).toBe(2);
  }, 60_000);

  it('marks the key inside the transaction that commits the effect', async () => {
    const { offer } = await sellerWithOffer(api, { capacity: 10 });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
    const r = await buyer.client.postIdempotent<OrderView>(
      '/v1/orders',
      { offerId: offer.id, slots: 1, hours: 1 },
      'order-key-mark',
    );
    expect(r.status).toBe(201);
    const [row] = await db.query<{ status_code: number }[]>(
      `SELECT status_code FROM idempotency_keys WHERE key = 'order-key-mark'`,
    );
    expect(row.status_code).toBe(201);
  }, 60_000);

  // The top-up's private steps, replaced per test to stop or break it at one point.
  type Steps = { view: (...a: unknown[]) => unknown; creditTopUp: (...a: unknown[]) => unknown };
  const steps = () => api.app.get(TopUpsService) as unknown as Steps;
  const keyStatus = async (key: string) =>
    (
      await db.query<{ status_code: number | null }[]>(
        'SELECT status_code FROM idempotency_keys WHERE key = $1',
        [key],
      )
    )[0]?.status_code;
  const paidTopUps = async (orgId: string) =>
    Number(
      (
        await db.query<{ n: string }[]>(
          'SELECT COUNT(*)::text AS n FROM top_ups WHERE org_id = $1 AND paid_at IS NOT NULL',
          [orgId],
        )
      )[0].n,
    );

  it('the commit of a top-up marks its key before the answer is stored (crash window)', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const s = steps();
    const view = s.view;
    let during: number | null | undefined;
    s.view = (...a: unknown[]) => {
      // Runs after the money moved, before the interceptor stores the answer.
      return keyStatus('topup-key-window').then((st) => {
        during = st;
        return view.apply(s, a);
      });
    };
    try {
      const r = await buyer.client.postIdempotent(
        '/v1/wallet/top-ups',
        { currency: 'CNY', amount: '10.00' },
        'topup-key-window',
      );
      expect(r.status).toBe(201);
    } finally {
      s.view = view;
    }
    expect(during).toBe(0); // a crash here leaves "effect committed": no second run
    expect(await keyStatus('topup-key-window')).toBe(201);
  }, 60_000);

  it('an attempt failing after its commit keeps its key: the retry is not run again', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const s = steps();
    const view = s.view;
    s.view = () => {
      throw new Error('connection lost after the commit');
    };
    const body = { currency: 'CNY', amount: '10.00' };
    try {
      const r = await buyer.client.postIdempotent('/v1/wallet/top-ups', body, 'topup-key-broke');
      expect(r.status).toBe(500);
    } finally {
      s.view = view;
    }
    const retry = await buyer.client.postIdempotent<{ error: { details: unknown } }>(
      '/v1/wallet/top-ups',
      body,
      'topup-key-broke',
    );
    expect(retry.status).toBe(409);
    expect(retry.body.error.details).toEqual({ idempotency: 'outcome_unknown' });
    expect(await paidTopUps(buyer.orgId)).toBe(1);
  }, 60_000);

  it('an attempt whose key was taken over cannot commit (fencing)', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const s = steps();
    const credit = s.creditTopUp;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    s.creditTopUp = async (...a: unknown[]) => {
      entered();
      await gate; // the instance hangs here, longer than IDEMPOTENCY_STALE_SECONDS
      return credit.apply(s, a);
    };
    const body = { currency: 'CNY', amount: '10.00' };
    try {
      const hung = buyer.client.postIdempotent('/v1/wallet/top-ups', body, 'topup-key-hung');
      await inside;
      // A retry elsewhere takes the stale key over (what the interceptor's UPDATE does).
      await db.query(
        `UPDATE idempotency_keys SET created_at = clock_timestamp() WHERE key = 'topup-key-hung'`,
      );
      release();
      expect((await hung).status).toBe(500);
    } finally {
      s.creditTopUp = credit;
    }
    expect(await paidTopUps(buyer.orgId)).toBe(0);
  }, 60_000);
});
