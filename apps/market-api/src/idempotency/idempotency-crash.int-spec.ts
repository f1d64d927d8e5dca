import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import type { OrderView, WalletView } from '@suanli/contracts';
import { Decimal, Money, toMinorUnits } from '@suanli/money';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import {
  checkoutSession,
  stripeEvent,
  stripeSignature,
} from '../../../../tools/dev/stripe-events.js';
import { OrdersService } from '../orders/orders.service.js';
import { PayoutsService, type RefundView } from '../payments/payouts.service.js';
import { StripeGateway } from '../payments/stripe.client.js';
import { OperatorCreditsService } from '../payments/operator-credits.service.js';
import { TopUpsService, type TopUpView } from '../payments/top-ups.service.js';

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

    // Its effects committed without their answer (left only by a route that commits before it
    // can hand its answer over and cannot resume; orders now commit their answer with the
    // order): never run again, the last resort is `outcome_unknown`.
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

  it('stores the answer in the transaction that commits the effect', async () => {
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
  const paidTopUps = async (orgId: string) =>
    Number(
      (
        await db.query<{ n: string }[]>(
          'SELECT COUNT(*)::text AS n FROM top_ups WHERE org_id = $1 AND paid_at IS NOT NULL',
          [orgId],
        )
      )[0].n,
    );

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

// A kill -9 can land anywhere in a request. To stand for one, `freeze` stops an attempt at a
// chosen point for good (like a dead process, it never runs another line: it neither stores an
// answer nor cleans up), `ageKey` moves its key's lease past IDEMPOTENCY_STALE_SECONDS (as if
// the client retried 30 s later), and the client retries with the same key. The retry must get
// the answer the first attempt would have given (status, body, `Idempotent-Replayed`), and the
// effect must be there once.

type Fn = (this: unknown, ...a: unknown[]) => Promise<unknown>;

interface Frozen<T> {
  /** What the frozen call returned (`after`) or its arguments (`before`), once it got there. */
  reached: Promise<T>;
  /** Ends the frozen attempt (with an error, so the server lets go of it) and restores the method. */
  release(): void;
}

/**
 * Replaces `target[name]` so that its `nth` call stops for good, before or after running:
 * the process "dies" right there. Other calls run as usual.
 */
function freeze<T>(
  target: object,
  name: string,
  opts: { when: 'before' | 'after'; nth?: number },
): Frozen<T> {
  const obj = target as Record<string, Fn>;
  const own = Object.prototype.hasOwnProperty.call(obj, name);
  const original = obj[name];
  let calls = 0;
  let reach!: (v: T) => void;
  const reached = new Promise<T>((r) => (reach = r));
  let thaw!: () => void;
  const dead = new Promise<void>((r) => (thaw = r));
  obj[name] = async function (this: unknown, ...a: unknown[]) {
    if (++calls !== (opts.nth ?? 1)) return original.apply(this, a);
    reach((opts.when === 'before' ? a : await original.apply(this, a)) as T);
    await dead;
    throw new Error('the instance died here (simulated kill -9)');
  };
  return {
    reached,
    release() {
      if (own) obj[name] = original;
      else delete obj[name];
      thaw();
    },
  };
}

/** The retry comes after IDEMPOTENCY_STALE_SECONDS: the dead attempt's lease has run out. */
const ageKey = (db: DataSource, key: string) =>
  db.query(
    `UPDATE idempotency_keys SET created_at = created_at - interval '1 hour' WHERE key = $1`,
    [key],
  );

const keyRow = async (db: DataSource, key: string) =>
  (
    await db.query<{ status_code: number | null; response_body: unknown }[]>(
      'SELECT status_code, response_body FROM idempotency_keys WHERE key = $1',
      [key],
    )
  )[0];

const count = async (db: DataSource, sql: string, params: unknown[]) =>
  Number((await db.query<{ n: string }[]>(sql, params))[0].n);

/** As the client received it: JSON, dates as strings. */
const asSent = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** A retry's answer is the first attempt's, replayed: 201, `Idempotent-Replayed`, same body. */
function expectReplayed(
  retry: { status: number; headers: Headers; body: unknown },
  first: unknown,
): void {
  expect(retry.status).toBe(201);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  expect(retry.body).toEqual(asSent(first));
}

const available = async (client: ReturnType<typeof apiClient>, currency = 'CNY') =>
  (await client.get<WalletView>('/v1/wallet')).body.balances.find((b) => b.currency === currency)
    ?.available ?? '0.00';

describe('a crash after the effects committed, before the answer was stored (test mode)', () => {
  it('POST /v1/orders: the retry gets the order placed, placed once', async () => {
    const { offer } = await sellerWithOffer(api, { capacity: 10 });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
    const body = { offerId: offer.id, slots: 1, hours: 1 };
    const wallet = (await buyer.client.get<WalletView>('/v1/wallet')).body;
    const crash = freeze<OrderView>(api.app.get(OrdersService), 'place', { when: 'after' });
    const first = buyer.client.postIdempotent('/v1/orders', body, 'order-crash-after-commit');
    try {
      const placed = await crash.reached;
      // The answer committed with the order (no window left for `outcome_unknown`).
      expect(await keyRow(db, 'order-crash-after-commit')).toEqual({
        status_code: 201,
        response_body: asSent(placed),
      });
      await ageKey(db, 'order-crash-after-commit');
      const retry = await buyer.client.postIdempotent<OrderView>(
        '/v1/orders',
        body,
        'order-crash-after-commit',
      );
      expectReplayed(retry, placed);
    } finally {
      crash.release();
    }
    expect((await first).status).toBe(500);
    const again = await buyer.client.postIdempotent<OrderView>(
      '/v1/orders',
      body,
      'order-crash-after-commit',
    );
    expect(again.status).toBe(201);
    expect(again.body.id).toBe((await crash.reached).id);
    const orgOrders = 'SELECT COUNT(*)::text AS n FROM orders WHERE buyer_org_id = $1';
    expect(await count(db, orgOrders, [buyer.orgId])).toBe(1);
    const leases = 'SELECT COUNT(*)::text AS n FROM leases WHERE buyer_org_id = $1';
    expect(await count(db, leases, [buyer.orgId])).toBe(1);
    // One escrow hold: the wallet moved once.
    const holds = `SELECT COUNT(DISTINCT t.id)::text AS n FROM ledger_transactions t
      JOIN ledger_entries e ON e.transaction_id = t.id
      JOIN ledger_accounts a ON a.id = e.account_id
     WHERE t.kind = 'escrow_hold' AND a.owner_key = $1`;
    expect(await count(db, holds, [buyer.orgId])).toBe(1);
    const after = (await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0];
    expect(after.total).toBe(wallet.balances[0].total);
    expect(Number(after.held)).toBeGreaterThan(0);
  }, 60_000);

  it('POST /v1/admin/wallets/:orgId/credits: the retry gets the credit and its wallet, credited once', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const operator = apiClient(api.url, await api.operatorToken());
    const path = `/v1/admin/wallets/${buyer.orgId}/credits`;
    const body = { currency: 'CNY', amount: '25.00', memo: 'crash drill' };
    const crash = freeze<{ transactionId: string }>(api.app.get(OperatorCreditsService), 'credit', {
      when: 'after',
    });
    const first = operator.postIdempotent(path, body, 'credit-crash-after-commit');
    let credited: { transactionId: string };
    try {
      credited = await crash.reached;
      await ageKey(db, 'credit-crash-after-commit');
      // Later credits change the wallet; the retry still gets the answer as it was.
      await fundWallet(api, buyer.orgId, 'CNY', '5.00');
      const retry = await operator.postIdempotent(path, body, 'credit-crash-after-commit');
      expectReplayed(retry, credited);
      expect(retry.body).toMatchObject({
        testMode: true,
        wallet: { balances: [{ currency: 'CNY', available: '25.00' }] },
      });
    } finally {
      crash.release();
    }
    expect((await first).status).toBe(500);
    const postings = `SELECT COUNT(*)::text AS n FROM ledger_transactions WHERE reference LIKE $1`;
    expect(
      await count(db, postings, [`test-credit:%:${buyer.orgId}:credit-crash-after-commit`]),
    ).toBe(1);
    expect(await available(buyer.client)).toBe('30.00');
  }, 60_000);

  it('POST /v1/wallet/top-ups (test mode): the retry gets the top-up, credited once', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const body = { currency: 'CNY', amount: '12.00' };
    const crash = freeze<TopUpView>(api.app.get(TopUpsService), 'create', { when: 'after' });
    const first = buyer.client.postIdempotent(
      '/v1/wallet/top-ups',
      body,
      'topup-crash-after-commit',
    );
    try {
      const created = await crash.reached;
      expect(created).toMatchObject({ status: 'paid', testMode: true });
      await ageKey(db, 'topup-crash-after-commit');
      const retry = await buyer.client.postIdempotent<TopUpView>(
        '/v1/wallet/top-ups',
        body,
        'topup-crash-after-commit',
      );
      expectReplayed(retry, created);
    } finally {
      crash.release();
    }
    expect((await first).status).toBe(500);
    const paid =
      'SELECT COUNT(*)::text AS n FROM top_ups WHERE org_id = $1 AND paid_at IS NOT NULL';
    expect(await count(db, paid, [buyer.orgId])).toBe(1);
    expect(await available(buyer.client)).toBe('12.00');
  }, 60_000);
});

// The Stripe routes commit in steps around Stripe calls, so they resume: the retry carries on
// with what the first attempt committed. Stripe answers a call repeated with the same
// idempotency key with the object it created the first time; stripe-mock keeps no state, so
// `stripeRemembers` plays that part over it.
describe('a crash in a Stripe top-up or refund (stripe-mock)', () => {
  const SECRET = 'whsec_test_crash';
  let stripeApi: TestMarketApi;
  let sdb: DataSource;
  let stripe: Stripe;
  /** Calls that reached stripe-mock, by Stripe idempotency key. */
  const reachedStripe = new Map<string, number>();

  /** Makes `resource.create` answer a repeated idempotency key as Stripe does. */
  function stripeRemembers(resource: object) {
    const obj = resource as Record<string, Fn>;
    const create = obj.create;
    const seen = new Map<string, Promise<unknown>>();
    obj.create = function (this: unknown, ...a: unknown[]) {
      const key = (a[1] as { idempotencyKey?: string } | undefined)?.idempotencyKey;
      if (!key) return create.apply(this, a);
      const earlier = seen.get(key);
      if (earlier) return earlier;
      reachedStripe.set(key, (reachedStripe.get(key) ?? 0) + 1);
      const answer = create.apply(this, a);
      seen.set(key, answer);
      return answer;
    };
  }

  beforeAll(async () => {
    if (!process.env.STRIPE_API_BASE) {
      throw new Error('STRIPE_API_BASE is not set (run via npm test)');
    }
    const saved = { ...process.env };
    process.env.STRIPE_SECRET_KEY = 'sk_test_crash';
    process.env.STRIPE_WEBHOOK_SECRET = SECRET;
    // The payout run would send unsent refunds by itself; here only retries do.
    process.env.PAYOUT_SCHEDULER = 'off';
    try {
      stripeApi = await startMarketApi();
    } finally {
      process.env = saved;
    }
    sdb = stripeApi.app.get<DataSource>(getDataSourceToken());
    const gateway = stripeApi.app.get(StripeGateway).stripe;
    if (!gateway) throw new Error('Stripe is not configured');
    stripe = gateway;
    stripeRemembers(stripe.checkout.sessions);
    stripeRemembers(stripe.refunds);
  }, 60_000);

  afterAll(async () => {
    await stripeApi?.close();
  });

  const topUpsOf = (orgId: string) =>
    count(sdb, 'SELECT COUNT(*)::text AS n FROM top_ups WHERE org_id = $1', [orgId]);

  async function deliver(object: Record<string, unknown>) {
    const payload = stripeEvent('checkout.session.completed', object);
    const r = await fetch(`${stripeApi.url}/v1/stripe/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripeSignature(payload, SECRET),
      },
      body: payload,
    });
    expect(r.status).toBe(200);
  }

  /** A buyer with paid Stripe top-ups of these amounts (paid a minute apart, oldest first). */
  async function buyerWithPaidTopUps(amounts: string[]) {
    const buyer = await signUpActor(stripeApi, ['buyer']);
    for (const amount of amounts) {
      const t = await buyer.client.postIdempotent<TopUpView>('/v1/wallet/top-ups', {
        currency: 'CNY',
        amount,
      });
      expect(t.status).toBe(201);
      const minor = toMinorUnits(Money.of(amount, 'CNY'));
      await deliver(checkoutSession({ topUpId: t.body.id, amountTotal: minor, currency: 'cny' }));
      stripeApi.clock.advance(60_000);
    }
    return buyer;
  }

  it('POST /v1/wallet/top-ups: answered from its commit, or resumed at every earlier point', async () => {
    const buyer = await signUpActor(stripeApi, ['buyer']);
    const body = { currency: 'CNY', amount: '40.00' };
    const post = (key: string) =>
      buyer.client.postIdempotent<TopUpView>('/v1/wallet/top-ups', body, key);

    // 1. After the session was recorded with the answer: the retry replays it.
    const done = freeze<TopUpView>(stripeApi.app.get(TopUpsService), 'create', { when: 'after' });
    const first1 = post('stripe-topup-crash-1');
    try {
      const created = await done.reached;
      expect(created).toMatchObject({ provider: 'stripe', status: 'open' });
      await ageKey(sdb, 'stripe-topup-crash-1');
      const retry = await post('stripe-topup-crash-1');
      expectReplayed(retry, created);
    } finally {
      done.release();
    }
    expect((await first1).status).toBe(500);
    expect(await topUpsOf(buyer.orgId)).toBe(1);

    // 2. After the top-up row committed, before Stripe was called; 3. after Stripe created the
    // session, before it was recorded. The retry resumes with the same top-up and session.
    for (const [key, when] of [
      ['stripe-topup-crash-2', 'before'],
      ['stripe-topup-crash-3', 'after'],
    ] as const) {
      const before = await topUpsOf(buyer.orgId);
      const crash = freeze<unknown>(stripe.checkout.sessions, 'create', { when });
      const first = post(key);
      let session: Stripe.Checkout.Session | undefined;
      try {
        const reached = await crash.reached;
        if (when === 'after') session = reached as Stripe.Checkout.Session;
        expect((await keyRow(sdb, key)).status_code).toBe(0); // effects in, no answer
        // The first attempt may still be alive: not taken over before its lease runs out …
        const early = await post(key);
        expect(early.status).toBe(409);
        expect(JSON.stringify(early.body)).not.toContain('outcome_unknown');
        // … then resumed.
        await ageKey(sdb, key);
        const retry = await post(key);
        expect(retry.status).toBe(201);
        const [row] = await sdb.query<{ id: string; session_id: string }[]>(
          'SELECT id, session_id FROM top_ups WHERE org_id = $1 AND idempotency_key = $2',
          [buyer.orgId, key],
        );
        expect(retry.body).toMatchObject({
          id: row.id,
          provider: 'stripe',
          status: 'open',
          amount: '40.00',
          testMode: false,
        });
        expect(retry.body.checkoutUrl).toMatch(/^https:\/\//);
        if (session) {
          // The session Stripe created for the first attempt, not another one.
          expect(row.session_id).toBe(session.id);
          expect(retry.body.checkoutUrl).toBe(session.url);
        }
        const again = await post(key);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.body).toEqual(retry.body);
      } finally {
        crash.release();
      }
      expect((await first).status).toBe(500);
      expect(await topUpsOf(buyer.orgId)).toBe(before + 1);
      expect(reachedStripe.get(`top-up:${buyer.orgId}:${key}`)).toBe(1);
    }
    expect(await available(buyer.client)).toBe('0.00'); // nothing paid yet
  }, 90_000);

  it('POST /v1/wallet/top-ups: a failed Stripe call after the commit is resumed by the next retry', async () => {
    const buyer = await signUpActor(stripeApi, ['buyer']);
    const body = { currency: 'CNY', amount: '15.00' };
    const sessions = stripe.checkout.sessions as unknown as Record<string, Fn>;
    const create = sessions.create;
    sessions.create = () => Promise.reject(new Error('Stripe unreachable'));
    let failed: number;
    try {
      failed = (await buyer.client.postIdempotent('/v1/wallet/top-ups', body, 'stripe-topup-fail'))
        .status;
    } finally {
      sessions.create = create;
    }
    expect(failed).toBe(500);
    // The failed attempt gave its lease up: the client's retry right away carries on.
    const retry = await buyer.client.postIdempotent<TopUpView>(
      '/v1/wallet/top-ups',
      body,
      'stripe-topup-fail',
    );
    expect(retry.status).toBe(201);
    expect(retry.body.checkoutUrl).toMatch(/^https:\/\//);
    expect(await topUpsOf(buyer.orgId)).toBe(1);
  }, 60_000);

  it('POST /v1/wallet/refunds: booked, partly sent or all sent, the retry gets the refund, once', async () => {
    const cases = [
      // after booking both parts, before any Stripe refund
      { key: 'refund-crash-booked', target: () => stripe.refunds, when: 'before', nth: 1 },
      // after the first part's Stripe refund was recorded and the second created, not recorded
      { key: 'refund-crash-part', target: () => stripe.refunds, when: 'after', nth: 2 },
      // after the answer was built, before it was stored
      {
        key: 'refund-crash-answer',
        target: () => stripeApi.app.get(PayoutsService),
        when: 'after',
        nth: 1,
      },
    ] as const;
    for (const c of cases) {
      const buyer = await buyerWithPaidTopUps(['30.00', '20.00']);
      const body = { currency: 'CNY', amount: '35.00' };
      const post = () => buyer.client.postIdempotent<RefundView>('/v1/wallet/refunds', body, c.key);
      const crash = freeze<unknown>(
        c.target(),
        c.target() === stripe.refunds ? 'create' : 'refund',
        {
          when: c.when,
          nth: c.nth,
        },
      );
      const first = post();
      let refund: RefundView;
      try {
        const reached = await crash.reached;
        expect((await keyRow(sdb, c.key)).status_code).toBe(0);
        await ageKey(sdb, c.key);
        const retry = await post();
        expect(retry.status).toBe(201);
        refund = retry.body;
        // All sent: exactly the answer built before the crash.
        if (c.key === 'refund-crash-answer') expect(refund).toEqual(asSent(reached));
        // The refund Stripe created for the second part the first time, not another one.
        if (c.key === 'refund-crash-part') {
          expect(refund.parts[1].stripeId).toBe((reached as Stripe.Refund).id);
        }
        const again = await post();
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.body).toEqual(refund);
      } finally {
        crash.release();
      }
      expect((await first).status).toBe(500);
      const base = `refund:${buyer.orgId}:${c.key}`;
      expect(refund).toMatchObject({ kind: 'refund', amount: '35.00', reference: base });
      expect(refund.parts.map((p) => [p.amount, p.reference])).toEqual([
        ['20.00', `${base}:1`],
        ['15.00', `${base}:2`],
      ]);
      for (const p of refund.parts) expect(p.stripeId).toMatch(/^re_/);
      // Each part booked once and refunded by Stripe once.
      const postings =
        'SELECT COUNT(*)::text AS n FROM ledger_transactions WHERE reference LIKE $1';
      expect(await count(sdb, postings, [`${base}:%`])).toBe(2);
      const movements = `SELECT COUNT(*)::text AS n FROM stripe_movements
        WHERE reference LIKE $1 AND stripe_id IS NOT NULL`;
      expect(await count(sdb, movements, [`${base}:%`])).toBe(2);
      expect(reachedStripe.get(`${base}:1`)).toBe(1);
      expect(reachedStripe.get(`${base}:2`)).toBe(1);
      const refunded = await sdb.query<{ sum: string }[]>(
        'SELECT SUM(refunded)::text AS sum FROM top_ups WHERE org_id = $1',
        [buyer.orgId],
      );
      expect(new Decimal(refunded[0].sum).toFixed()).toBe('35');
      expect(await available(buyer.client)).toBe('15.00');
    }
  }, 120_000);
});
