import { describe, expect, it } from '@jest/globals';
import { PaymentsConfig } from './payments.config.js';
import { standInCheckoutUrl } from './top-ups.service.js';

const STAND_IN = 'http://127.0.0.1:3102/checkout/{CHECKOUT_SESSION_ID}';
const stripe = { STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_WEBHOOK_SECRET: 'whsec_x' };

describe('PaymentsConfig', () => {
  it('requires a webhook secret with a secret key', () => {
    expect(() => PaymentsConfig.fromEnv({ STRIPE_SECRET_KEY: 'sk_test_123' })).toThrow(
      /STRIPE_WEBHOOK_SECRET: required/,
    );
    expect(PaymentsConfig.fromEnv(stripe).webhookSecret).toBe('whsec_x');
    expect(PaymentsConfig.fromEnv({}).testMode).toBe(true);
  });

  it('takes a development checkout URL (STRIPE_CHECKOUT_URL), never in production', () => {
    expect(PaymentsConfig.fromEnv(stripe).checkoutUrl).toBeNull();
    expect(PaymentsConfig.fromEnv({ ...stripe, STRIPE_CHECKOUT_URL: STAND_IN }).checkoutUrl).toBe(
      STAND_IN,
    );
    const refused = (env: Record<string, string>, why: RegExp): void =>
      expect(() => PaymentsConfig.fromEnv({ STRIPE_CHECKOUT_URL: STAND_IN, ...env })).toThrow(why);
    refused({ ...stripe, NODE_ENV: 'production' }, /STRIPE_CHECKOUT_URL: development only/);
    refused({}, /STRIPE_CHECKOUT_URL: needs STRIPE_SECRET_KEY/);
    refused({ ...stripe, STRIPE_SECRET_KEY: 'sk_live_abc' }, /live Stripe key/);
    refused({ ...stripe, STRIPE_CHECKOUT_URL: 'http://127.0.0.1:3102/pay' }, /CHECKOUT_SESSION_ID/);
    refused({ ...stripe, STRIPE_CHECKOUT_URL: 'ftp://x/{CHECKOUT_SESSION_ID}' }, /http\(s\)/);
    refused({ ...stripe, STRIPE_CHECKOUT_URL: 'not a url' }, /STRIPE_CHECKOUT_URL/);
  });
});

describe('standInCheckoutUrl', () => {
  it('puts the session id in the template and the session in the query', () => {
    const url = new URL(
      standInCheckoutUrl(STAND_IN, {
        sessionId: 'cs_test_abc',
        topUpId: '7f0c1f36-0000-4000-8000-000000000001',
        amountTotal: 50000,
        currency: 'cny',
        successUrl: 'http://127.0.0.1:3000/wallet?top-up=t&status=success',
        cancelUrl: 'http://127.0.0.1:3000/wallet?top-up=t&status=cancelled',
      }),
    );
    expect(url.origin + url.pathname).toBe('http://127.0.0.1:3102/checkout/cs_test_abc');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_reference_id: '7f0c1f36-0000-4000-8000-000000000001',
      amount_total: '50000',
      currency: 'cny',
      success_url: 'http://127.0.0.1:3000/wallet?top-up=t&status=success',
      cancel_url: 'http://127.0.0.1:3000/wallet?top-up=t&status=cancelled',
    });
  });
});
