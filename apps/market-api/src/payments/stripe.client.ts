import Stripe from 'stripe';
import type { PaymentsConfig } from './payments.config.js';

/** The Stripe SDK pointed at STRIPE_API_BASE (stripe-mock locally), or null in test mode. */
export abstract class StripeGateway {
  abstract readonly stripe: Stripe | null;
}

export function createStripe(config: PaymentsConfig): Stripe | null {
  if (!config.secretKey) return null;
  const base = config.apiBase;
  return new Stripe(config.secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...(base
      ? {
          host: base.hostname,
          port: base.port || (base.protocol === 'https:' ? 443 : 80),
          protocol: base.protocol === 'http:' ? 'http' : 'https',
        }
      : {}),
  });
}
