import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { WalletView } from '@suanli/contracts';
import { signUpActor } from '../../../../test/support/actors.js';
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
});
