import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { formatMinor, startCheckoutStandIn, type StandIn } from './checkout-standin.js';

const SECRET = 'whsec_standin_spec';
const TOP_UP = '7f0c1f36-0000-4000-8000-000000000001';
const WEB = 'http://127.0.0.1:3000';

// a market-api stand-in for the webhook: verifies like market-api does, records the events
const received: Stripe.Event[] = [];
let answer = 200;
let hook: Server;
let standIn: StandIn;

beforeAll(async () => {
  const stripe = new Stripe('sk_test_spec');
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const sig = String(req.headers['stripe-signature']);
        received.push(stripe.webhooks.constructEvent(body, sig, SECRET));
        res.writeHead(answer, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ received: true, outcome: 'credited' }));
      } catch {
        res.writeHead(400).end('{}');
      }
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const addr = hook.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  standIn = await startCheckoutStandIn({
    port: 0,
    webhookSecret: SECRET,
    marketApiUrl: `http://127.0.0.1:${port}`,
    publicWebUrl: WEB,
    log: () => undefined,
  });
});

afterAll(async () => {
  await standIn?.close();
  await new Promise((r) => hook?.close(r));
});

function checkoutUrl(over: Record<string, string> = {}): string {
  const q = new URLSearchParams({
    client_reference_id: TOP_UP,
    amount_total: '50000',
    currency: 'cny',
    success_url: `${WEB}/wallet?top-up=${TOP_UP}&status=success`,
    cancel_url: `${WEB}/wallet?top-up=${TOP_UP}&status=cancelled`,
    ...over,
  });
  return `${standIn.url}/checkout/cs_test_spec?${q}`;
}

const press = (url: string, action: string): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `action=${action}`,
    redirect: 'manual',
  });

describe('checkout stand-in', () => {
  it('formats minor units by the currency', () => {
    expect(formatMinor(50000, 'cny')).toBe('500.00 CNY');
    expect(formatMinor(5, 'usd')).toBe('0.05 USD');
    expect(formatMinor(1200, 'jpy')).toBe('1200 JPY');
  });

  it('shows the amount with Pay and Cancel, in English and Chinese', async () => {
    const r = await fetch(checkoutUrl());
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('500.00 CNY');
    expect(html).toMatch(/<button type="submit" name="action" value="pay">Pay 500.00 CNY/);
    expect(html).toMatch(/<button type="submit" name="action" value="cancel">Cancel/);
    expect(html).toContain('<span lang="zh-CN">支付</span>');
    expect((await fetch(`${standIn.url}/health`)).status).toBe(200);
  });

  it('Pay delivers a signed checkout.session.completed, then returns to the success URL', async () => {
    received.length = 0;
    const r = await press(checkoutUrl(), 'pay');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`${WEB}/wallet?top-up=${TOP_UP}&status=success`);
    expect(received).toHaveLength(1);
    expect(received[0].type).toBe('checkout.session.completed');
    expect(received[0].data.object).toMatchObject({
      id: 'cs_test_spec',
      object: 'checkout.session',
      client_reference_id: TOP_UP,
      metadata: { topUpId: TOP_UP },
      payment_status: 'paid',
      amount_total: 50000,
      currency: 'cny',
    });
  });

  it('Cancel delivers nothing and returns to the cancel URL', async () => {
    received.length = 0;
    const r = await press(checkoutUrl(), 'cancel');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`${WEB}/wallet?top-up=${TOP_UP}&status=cancelled`);
    expect(received).toHaveLength(0);
  });

  it('returns buyers only to the storefront, and says when market-api refuses', async () => {
    received.length = 0;
    const away = checkoutUrl({ success_url: 'https://evil.example/' });
    expect((await fetch(away)).status).toBe(400);
    expect((await press(away, 'pay')).status).toBe(400);
    expect((await fetch(checkoutUrl({ amount_total: '-1' }))).status).toBe(400);
    expect(received).toHaveLength(0);
    answer = 400;
    try {
      const r = await press(checkoutUrl(), 'pay');
      expect(r.status).toBe(502);
      expect(await r.text()).toContain('refused the webhook');
    } finally {
      answer = 200;
    }
  });
});
