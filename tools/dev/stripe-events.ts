// Stripe webhook events as Stripe sends them, for what plays Stripe's part locally (stripe-mock
// sends none): the checkout stand-in of `npm start` and the tests. Signed like Stripe signs them
// (`Stripe-Signature`, HMAC of the raw body with the endpoint's `whsec_…` secret).
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';

/** The fields of a Checkout Session the market-api's webhook handler reads. */
export interface CheckoutSessionFields {
  /** The top-up (market-api sets it as `client_reference_id` and `metadata.topUpId`). */
  topUpId: string;
  /** In the currency's minor units (500.00 CNY → 50000). */
  amountTotal: number;
  /** Lower case, as Stripe has it (`cny`). */
  currency: string;
  id?: string;
  paymentIntent?: string;
  paid?: boolean;
}

export function checkoutSession(s: CheckoutSessionFields): Record<string, unknown> {
  const paid = s.paid ?? true;
  return {
    id: s.id ?? `cs_test_${randomUUID().replace(/-/g, '')}`,
    object: 'checkout.session',
    client_reference_id: s.topUpId,
    metadata: { topUpId: s.topUpId },
    payment_status: paid ? 'paid' : 'unpaid',
    status: paid ? 'complete' : 'open',
    amount_total: s.amountTotal,
    currency: s.currency.toLowerCase(),
    payment_intent: s.paymentIntent ?? `pi_test_${randomUUID().slice(0, 8)}`,
  };
}

/** An event's JSON body (`type` with `data.object`), as delivered to the webhook endpoint. */
export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  opts: { id?: string; created?: number } = {},
): string {
  return JSON.stringify({
    id: opts.id ?? `evt_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    object: 'event',
    api_version: '2025-01-27.acacia',
    created: opts.created ?? Math.floor(Date.now() / 1000),
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  });
}

const signer = new Stripe('sk_test_signer');

/** The `Stripe-Signature` header for `payload`, signed with the endpoint secret. */
export function stripeSignature(payload: string, secret: string): string {
  return signer.webhooks.generateTestHeaderString({ payload, secret });
}

/** POSTs a signed event to a webhook endpoint (market-api's `/v1/stripe/webhook`). */
export async function deliverStripeEvent(
  webhookUrl: string,
  payload: string,
  secret: string,
): Promise<{ status: number; body: unknown }> {
  const r = await fetch(webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': stripeSignature(payload, secret),
    },
    body: payload,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body };
}
