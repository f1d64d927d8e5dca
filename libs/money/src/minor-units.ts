import { minorUnitDigits } from './currency.js';
import { Decimal } from './decimal.js';
import { Money } from './money.js';
import { parseDecimal } from './parse.js';

/** A Money amount in the currency's minor units, as Stripe wants it (12.34 CNY → 1234). */
export function toMinorUnits(m: Money): number {
  const minor = new Decimal(m.toString()).times(new Decimal(10).pow(minorUnitDigits(m.currency)));
  if (!minor.isInteger()) throw new RangeError(`${m.toString()} is not in whole minor units`);
  if (!minor.abs().lte(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`${m.toString()} is too large`);
  return minor.toNumber();
}

/** Minor units back to Money (1234, 'cny' → 12.34 CNY). */
export function fromMinorUnits(amount: number, currency: string): Money {
  const cur = currency.toUpperCase();
  if (!Number.isSafeInteger(amount)) throw new RangeError(`bad minor amount ${amount}`);
  return Money.of(parseDecimal(String(amount)).div(new Decimal(10).pow(minorUnitDigits(cur))), cur);
}
