import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import Stripe from 'stripe';
import { DataSource } from 'typeorm';
import type { WalletView } from '@suanli/contracts';
import { signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { scrapeMetrics } from '../../../../test/support/metrics.js';
import {
  checkoutSession,
  stripeEvent,
  stripeSignature,
} from '../../../../tools/dev/stripe-events.js';
import { LedgerService, PLATFORM_OWNER } from '../ledger/ledger.service.js';
import type { EarningsView, MovementView, PayoutRunResult, RefundView } from './payouts.service.js';
import type { ReconciliationReport } from './reconciliation.service.js';
import type { TopUpView, WebhookOutcome } from './top-ups.service.js';

// Many HTTP round trips (and PDF rendering) on a shared, loaded machine.
jest.setTimeout(60_000);

// Stripe flows end to end against stripe-mock (STRIPE_API_BASE, started by `npm test`).
// stripe-mock is stateless: it answers API calls with fixture objects, and never sends
// webhooks; the tests deliver events themselves, signed with the endpoint secret.

const SECRET = 'whsec_test_suanli';
let api: TestMarketApi;
const saved = { ...process.env };

beforeAll(async () => {
  if (!process.env.STRIPE_API_BASE)
    throw new Error('STRIPE_API_BASE is not set (run via npm test)');
  process.env.STRIPE_SECRET_KEY = 'sk_test_suanli';
  process.env.STRIPE_WEBHOOK_SECRET = SECRET;
  process.env.PAYOUT_SCHEDULER = 'off';
  process.env.PAYOUT_MINIMUM = '100.00';
  api = await startMarketApi();
}, 60_000);

afterAll(async () => {
  await api?.close();
  process.env = saved;
});

let n = 0;
function event(
  type: string,
  object: Record<string, unknown>,
  id = `evt_test_${++n}_${randomUUID().slice(0, 8)}`,
) {
  return stripeEvent(type, object, { id, created: 1_795_000_000 + n });
}

async function deliver(
  payload: string,
  opts: { secret?: string; signature?: string | null; body?: string } = {},
) {
  const signature =
    opts.signature === undefined ? stripeSignature(payload, opts.secret ?? SECRET) : opts.signature;
  const r = await fetch(`${api.url}/v1/stripe/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'stripe-signature': signature } : {}),
    },
    body: opts.body ?? payload,
  });
  return { status: r.status, body: (await r.json()) as WebhookOutcome };
}

const session = (topUpId: string, minor: number, pi: string, paid = true) =>
  checkoutSession({ topUpId, amountTotal: minor, currency: 'cny', paymentIntent: pi, paid });
const intent = (topUpId: string, minor: number, pi: string) => ({
  id: pi,
  object: 'payment_intent',
  metadata: { topUpId },
  status: 'succeeded',
  amount: minor,
  amount_received: minor,
  currency: 'cny',
});

describe('Stripe payments (stripe-mock)', () => {
  it('credits a Checkout top-up only from the verified webhook, once; forged and replayed deliveries change nothing', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const wallet = async () =>
      (await buyer.client.get<WalletView>('/v1/wallet')).body.balances.find(
        (b) => b.currency === 'CNY',
      )?.available ?? '0.00';
    const key = randomUUID();
    const created = await buyer.client.postIdempotent<TopUpView>(
      '/v1/wallet/top-ups',
      { currency: 'CNY', amount: '50.00' },
      key,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      provider: 'stripe',
      status: 'open',
      amount: '50.00',
      testMode: false,
    });
    expect(created.body.checkoutUrl).toMatch(/^https:\/\//);
    const again = await buyer.client.postIdempotent<TopUpView>(
      '/v1/wallet/top-ups',
      { currency: 'CNY', amount: '50.00' },
      key,
    );
    expect(again.body.id).toBe(created.body.id);
    expect(await wallet()).toBe('0.00');
    const topUp = created.body.id;
    const paid = event('checkout.session.completed', session(topUp, 5000, 'pi_test_a'));

    // Forged: wrong secret, no signature, a valid signature over another body.
    expect((await deliver(paid, { secret: 'whsec_forged' })).status).toBe(400);
    expect((await deliver(paid, { signature: null })).status).toBe(400);
    const other = event('checkout.session.completed', session(topUp, 1, 'pi_test_x'));
    expect(
      (
        await deliver(other, {
          body: paid,
          signature: stripeSignature(other, SECRET),
        })
      ).status,
    ).toBe(400);
    expect(await wallet()).toBe('0.00');
    const ds = api.app.get(DataSource);
    expect(await ds.query('SELECT count(*)::int AS n FROM stripe_events')).toEqual([{ n: 0 }]);

    // Genuine: credited once.
    expect(await deliver(paid)).toEqual({
      status: 200,
      body: expect.objectContaining({ outcome: 'credited' }),
    });
    expect(await wallet()).toBe('50.00');
    // Replayed (same event id, freshly signed): acknowledged, nothing changes.
    expect((await deliver(paid)).body.outcome).toBe('duplicate');
    // A second paying event for the same top-up (another id): already credited.
    expect(
      (await deliver(event('payment_intent.succeeded', intent(topUp, 5000, 'pi_test_a')))).body
        .outcome,
    ).toBe('already_credited');
    // Unknown types are acknowledged and ignored.
    const unknown = await deliver(event('customer.created', { id: 'cus_1', object: 'customer' }));
    expect(unknown).toEqual({
      status: 200,
      body: expect.objectContaining({ outcome: 'unknown_type' }),
    });
    expect(await wallet()).toBe('50.00');

    // A minute later (refunds draw from the newest paid top-up first; the test clock is fixed).
    api.clock.advance(60_000);
    // Out of order: payment_intent.succeeded before checkout.session.completed.
    const t2 = (
      await buyer.client.postIdempotent<TopUpView>('/v1/wallet/top-ups', {
        currency: 'CNY',
        amount: '12.34',
      })
    ).body.id;
    expect(
      (await deliver(event('payment_intent.succeeded', intent(t2, 1234, 'pi_test_b')))).body
        .outcome,
    ).toBe('credited');
    expect(
      (await deliver(event('checkout.session.completed', session(t2, 1234, 'pi_test_b')))).body
        .outcome,
    ).toBe('already_credited');
    // A paid amount that differs from the top-up is never credited.
    const t3 = (
      await buyer.client.postIdempotent<TopUpView>('/v1/wallet/top-ups', {
        currency: 'CNY',
        amount: '10.00',
      })
    ).body.id;
    expect(
      (await deliver(event('checkout.session.completed', session(t3, 999, 'pi_test_c')))).body
        .outcome,
    ).toBe('rejected_amount_mismatch');
    expect(await wallet()).toBe('62.34');
    const list = await buyer.client.get<{ items: TopUpView[] }>('/v1/wallet/top-ups');
    expect(list.body.items.map((t) => [t.amount, t.status])).toEqual([
      ['10.00', 'open'],
      ['12.34', 'paid'],
      ['50.00', 'paid'],
    ]);

    // Refund of unused balance, drawn from the paid top-ups newest first: 12.34 from the second,
    // 7.66 from the first. Each part is its own Stripe refund with its own idempotency key; a
    // retried request returns the same refund.
    const rkey = randomUUID();
    const refund = await buyer.client.postIdempotent<RefundView>(
      '/v1/wallet/refunds',
      { currency: 'CNY', amount: '20.00' },
      rkey,
    );
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ kind: 'refund', amount: '20.00' });
    expect(refund.body.parts.map((p) => [p.amount, p.reference])).toEqual([
      ['12.34', `refund:${buyer.orgId}:${rkey}:1`],
      ['7.66', `refund:${buyer.orgId}:${rkey}:2`],
    ]);
    for (const p of refund.body.parts) expect(p.stripeId).toMatch(/^re_/);
    const parts: { top_up_id: string; amount: string; pi: string }[] = await ds.query(
      `SELECT m.top_up_id, m.amount::text AS amount, t.payment_intent_id AS pi
         FROM stripe_movements m JOIN top_ups t ON t.id = m.top_up_id
        WHERE m.reference LIKE $1 ORDER BY m.reference`,
      [`refund:${buyer.orgId}:${rkey}:%`],
    );
    expect(parts.map((p) => [p.pi, p.amount])).toEqual([
      ['pi_test_b', '12.340000000'],
      ['pi_test_a', '7.660000000'],
    ]);
    const retried = await buyer.client.postIdempotent<RefundView>(
      '/v1/wallet/refunds',
      { currency: 'CNY', amount: '20.00' },
      rkey,
    );
    expect(retried.body.id).toBe(refund.body.id);
    expect(retried.body.parts.map((p) => p.id)).toEqual(refund.body.parts.map((p) => p.id));
    expect(await wallet()).toBe('42.34');
    const history = await buyer.client.get<{ items: MovementView[] }>('/v1/wallet/refunds');
    expect(history.body.items).toHaveLength(2);
    // More than the paid top-ups have left (42.34): refused, nothing moves.
    const tooMuch = await buyer.client.postIdempotent<{ error: { code: string } }>(
      '/v1/wallet/refunds',
      { currency: 'CNY', amount: '42.35' },
    );
    expect(tooMuch.status).toBe(409);
    expect(await wallet()).toBe('42.34');
  });

  it('onboards a seller on Connect, pays payables above the minimum once per day, and reconciles', async () => {
    const operator = apiClient(api.url, await api.operatorToken());
    const seller = await signUpActor(api, ['seller']);
    const small = await signUpActor(api, ['seller']);
    const onboard = await seller.client.post<{ accountId: string; url: string }>(
      '/v1/earnings/connect-account',
      {},
    );
    expect(onboard.status).toBe(200);
    expect(onboard.body.accountId).toMatch(/^acct_/);
    expect(onboard.body.url).toMatch(/^https:\/\//);
    // Stable: onboarding again keeps the account.
    expect(
      (await seller.client.post<{ accountId: string }>('/v1/earnings/connect-account', {})).body
        .accountId,
    ).toBe(onboard.body.accountId);
    await small.client.post('/v1/earnings/connect-account', {});

    // Earnings as settlement would book them (seller payable).
    const ledger = api.app.get(LedgerService);
    const ds = api.app.get(DataSource);
    const earn = (org: string, amount: string) =>
      ds.transaction((m) =>
        ledger.post(m, {
          kind: 'test_earnings',
          reference: `test-earnings:${org}:${amount}`,
          entries: [
            {
              ownerKey: PLATFORM_OWNER,
              kind: 'test_funding',
              currency: 'CNY',
              amount: `-${amount}`,
            },
            { ownerKey: org, kind: 'seller_payable', currency: 'CNY', amount },
          ],
        }),
      );
    await earn(seller.orgId, '150.25');
    await earn(small.orgId, '99.99');

    const run = await operator.post<PayoutRunResult>('/v1/admin/payouts/run', {});
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ booked: 1, sent: 1, failed: [] });
    expect(run.body.skippedBelowMinimum).toBeGreaterThanOrEqual(1);
    const earnings = await seller.client.get<EarningsView>('/v1/earnings');
    expect(earnings.body.balances).toEqual([{ currency: 'CNY', payable: '0.00' }]);
    expect(earnings.body.payouts).toHaveLength(1);
    expect(earnings.body.payouts[0]).toMatchObject({ amount: '150.25', kind: 'payout' });
    expect(earnings.body.payouts[0].stripeId).toMatch(/^tr_/);
    expect(earnings.body.payouts[0].reference).toMatch(
      new RegExp(`^payout:${seller.orgId}:CNY:\\d{4}-\\d{2}-\\d{2}$`),
    );
    // Below the minimum: still payable.
    expect((await small.client.get<EarningsView>('/v1/earnings')).body.balances).toEqual([
      { currency: 'CNY', payable: '99.99' },
    ]);
    // Every booked payout is in the audit log (also when the scheduler books it).
    const audited = await operator.get<{ items: { orgId: string; target: { id: string } }[] }>(
      `/v1/admin/audit-events?action=payout.booked&orgId=${seller.orgId}`,
    );
    expect(audited.body.items).toHaveLength(1);
    expect(audited.body.items[0].target.id).toBe(earnings.body.payouts[0].reference);
    // Same day again: nothing new (one payout per seller, currency and day).
    await earn(seller.orgId, '200.00');
    const rerun = await operator.post<PayoutRunResult>('/v1/admin/payouts/run', {});
    expect(rerun.body).toMatchObject({ booked: 0, sent: 0 });
    expect((await seller.client.get('/v1/admin/payouts/run')).status).toBe(404);
    expect((await seller.client.post('/v1/admin/payouts/run', {})).status).toBe(403);

    // Reconciliation: every ledger movement through Stripe is matched or listed, and so is every
    // Stripe balance transaction (stripe-mock's fixtures match nothing of ours).
    const rep = await operator.get<ReconciliationReport>('/v1/admin/reconciliation');
    expect(rep.status).toBe(200);
    const r = rep.body;
    expect(r.testMode).toBe(false);
    expect(r.ledgerMovements).toBeGreaterThanOrEqual(4); // 2 top-ups, 1 refund, 1 payout
    expect(r.stripeTransactions).toBeGreaterThanOrEqual(1);
    const missingInStripe = r.differences.filter(
      (d) =>
        d.kind === 'missing_in_stripe' || d.kind === 'not_sent' || d.kind === 'amount_mismatch',
    );
    const missingInLedger = r.differences.filter(
      (d) => d.kind === 'missing_in_ledger' || d.kind === 'amount_mismatch',
    );
    expect(r.matched + missingInStripe.length).toBe(r.ledgerMovements);
    expect(r.matched + missingInLedger.length).toBe(r.stripeTransactions);
    expect(
      r.differences.some(
        (d) =>
          d.kind === 'missing_in_stripe' &&
          d.ledger.kind === 'payout' &&
          d.ledger.amount === '-150.25',
      ),
    ).toBe(true);
    // 50.00 + 12.34 top-ups − 20.00 refund − 150.25 payout = −107.91: the mirror of the
    // platform's stripe_clearing account.
    expect(r.totals.find((t) => t.currency === 'CNY')?.ledger).toBe('-107.91');
    expect(
      await ledger.balanceOf(ds.manager, {
        ownerKey: PLATFORM_OWNER,
        kind: 'stripe_clearing',
        currency: 'CNY',
      }),
    ).toBe('107.91');
    expect((await seller.client.get('/v1/admin/reconciliation')).status).toBe(403);
  });

  it('/metrics counts webhook outcomes, payout runs and amounts paid out', async () => {
    const text = await (await scrapeMetrics(api.url)).text();
    // One sample line of `name` with all of `labels` (in any order), or undefined.
    const sample = (name: string, labels: Record<string, string>) =>
      text
        .split('\n')
        .find(
          (l) =>
            l.startsWith(`${name}{`) &&
            Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
        )
        ?.split(' ')
        .pop();
    const webhooks = 'suanli_webhook_events_total';
    // From the first test: 3 forged deliveries, each outcome of the genuine ones.
    expect(sample(webhooks, { type: 'unverified', outcome: 'rejected' })).toBe('3');
    expect(sample(webhooks, { type: 'checkout.session.completed', outcome: 'credited' })).toBe('1');
    expect(sample(webhooks, { type: 'checkout.session.completed', outcome: 'duplicate' })).toBe(
      '1',
    );
    expect(sample(webhooks, { type: 'customer.created', outcome: 'unknown_type' })).toBe('1');
    // Payout runs by operators count as the scheduler's do: 1 booked and sent over two runs.
    expect(sample('suanli_payouts_total', { outcome: 'booked' })).toBe('1');
    expect(sample('suanli_payouts_total', { outcome: 'sent' })).toBe('1');
    expect(sample('suanli_payouts_total', { outcome: 'failed' })).toBe('0');
    expect(sample('suanli_payout_amount', { currency: 'CNY', kind: 'payout', state: 'sent' })).toBe(
      '150.25',
    );
  });

  // After the tests above: they count webhooks and ledger totals from the start of the file.
  it('refuses a webhook signed for a time in the future, as it refuses one too old (#18)', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const created = await buyer.client.postIdempotent<TopUpView>('/v1/wallet/top-ups', {
      currency: 'CNY',
      amount: '20.00',
    });
    const paid = event('checkout.session.completed', session(created.body.id, 2000, 'pi_test_f'));
    const signer = new Stripe('sk_test_signer');
    const at = (offsetS: number) =>
      signer.webhooks.generateTestHeaderString({
        payload: paid,
        secret: SECRET,
        timestamp: Math.floor(Date.now() / 1000) + offsetS,
      });
    for (const offset of [3600, -3600]) {
      const r = await deliver(paid, { signature: at(offset) });
      expect(r.status).toBe(400);
    }
    const wallet = await buyer.client.get<WalletView>('/v1/wallet');
    expect(wallet.body.balances).toEqual([]);
    // Within the tolerance either way it is taken.
    expect((await deliver(paid, { signature: at(60) })).body.outcome).toBe('credited');
  });

  it('refuses operator credits once Stripe is configured: no money is minted, the refusal is audited (#18)', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const operator = apiClient(api.url, await api.operatorToken());
    const r = await operator.postIdempotent<{ error: { code: string } }>(
      `/v1/admin/wallets/${buyer.orgId}/credits`,
      { currency: 'CNY', amount: '1000.00' },
    );
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('forbidden');
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances).toEqual([]);
    const audit = await operator.get<{ items: { outcome: string; details: object }[] }>(
      `/v1/admin/audit-events?action=wallet.credited&orgId=${buyer.orgId}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        details: expect.objectContaining({ code: 'forbidden' }),
      }),
    ]);
  });
});
