import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import type { WalletView } from '@suanli/contracts';
import { signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import type { TopUpView } from './top-ups.service.js';

// Many HTTP round trips (and PDF rendering) on a shared, loaded machine.
jest.setTimeout(60_000);

// With no Stripe key at all, top-ups go through the labelled test-mode provider.

let api: TestMarketApi;
const saved = { ...process.env };

beforeAll(async () => {
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.STRIPE_WEBHOOK_SECRET;
  process.env.PAYOUT_SCHEDULER = 'off';
  api = await startMarketApi();
}, 60_000);

afterAll(async () => {
  await api?.close();
  process.env = saved;
});

describe('test-mode payments (no Stripe key)', () => {
  it('credits a top-up at once, labelled test mode, and refuses webhooks', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const t = await buyer.client.postIdempotent<TopUpView>('/v1/wallet/top-ups', {
      currency: 'CNY',
      amount: '25.50',
    });
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({
      provider: 'test_mode',
      testMode: true,
      status: 'paid',
      checkoutUrl: null,
    });
    const w = await buyer.client.get<WalletView>('/v1/wallet');
    expect(w.body.balances).toEqual([
      { currency: 'CNY', available: '25.50', held: '0.00', total: '25.50' },
    ]);
    const hook = await fetch(`${api.url}/v1/stripe/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      body: '{}',
    });
    expect(hook.status).toBe(400);
    const seller = await signUpActor(api, ['seller']);
    const onboard = await seller.client.post<{ testMode: boolean; url: string | null }>(
      '/v1/earnings/connect-account',
      {},
    );
    expect(onboard.body).toMatchObject({ testMode: true, url: null });
  });
  it('credits only existing, not erased buyer organizations, and audits each credit once with it (#18)', async () => {
    const operator = apiClient(api.url, await api.operatorToken());
    const credit = (orgId: string, key = randomUUID()) =>
      operator.postIdempotent<{ error: { code: string }; wallet: WalletView }>(
        `/v1/admin/wallets/${orgId}/credits`,
        { currency: 'CNY', amount: '10.00', memo: 'probe' },
        key,
      );
    const ds = api.app.get(DataSource);
    const postings = async () =>
      (
        await ds.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'wallet_credit_test_mode'`,
        )
      )[0].n;
    const before = await postings();
    const unknown = await credit(randomUUID());
    expect(unknown.status).toBe(404);
    const seller = await signUpActor(api, ['seller']);
    const toSeller = await credit(seller.orgId);
    expect(toSeller.status).toBe(409);
    expect(toSeller.body.error.code).toBe('invalid_state');
    const buyer = await signUpActor(api, ['buyer']);
    const erased = await signUpActor(api, ['buyer']);
    expect((await operator.post(`/v1/admin/organizations/${erased.orgId}/erase`, {})).status).toBe(
      200,
    );
    expect((await credit(erased.orgId)).status).toBe(409);
    expect(await postings()).toBe(before);

    const key = randomUUID();
    const ok = await credit(buyer.orgId, key);
    expect(ok.status).toBe(201);
    expect(ok.body.wallet.balances[0]).toMatchObject({ currency: 'CNY', available: '10.00' });
    expect((await credit(buyer.orgId, key)).headers.get('idempotent-replayed')).toBe('true');
    expect(await postings()).toBe(before + 1);
    const events = async (orgId: string) =>
      (
        await operator.get<{ items: { outcome: string; details: Record<string, unknown> }[] }>(
          `/v1/admin/audit-events?action=wallet.credited&orgId=${orgId}`,
        )
      ).body.items;
    // One event for the credit (written with it), none for the replay; refusals as failed.
    expect(await events(buyer.orgId)).toEqual([
      expect.objectContaining({
        outcome: 'succeeded',
        details: expect.objectContaining({ testMode: true, transactionId: expect.any(String) }),
      }),
    ]);
    expect((await events(seller.orgId)).map((e) => e.outcome)).toEqual(['failed']);
  });
});
