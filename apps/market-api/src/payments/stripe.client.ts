import Stripe from 'stripe';
import { Decimal, Money, minorUnitDigits, parseDecimal } from '@suanli/money';
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

/** A Money amount in the currency's minor units, as Stripe wants it (12.34 CNY → 1234). */
export function toMinorUnits(m: Money): number {
  const minor = new Decimal(m.toString()).times(new Decimal(10).pow(minorUnitDigits(m.currency)));
  if (!minor.isInteger()) throw new RangeError(`${m.toString()} is not in whole minor units`);
  return minor.toNumber();
}

/** Stripe minor units back to Money (1234, 'cny' → 12.34 CNY). */
export function fromMinorUnits(amount: number, currency: string): Money {
  const cur = currency.toUpperCase();
  if (!Number.isSafeInteger(amount)) throw new RangeError(`bad minor amount ${amount}`);
  return Money.of(parseDecimal(String(amount)).div(new Decimal(10).pow(minorUnitDigits(cur))), cur);
}
