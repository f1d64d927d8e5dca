import { assertCurrency, minorUnitDigits, type CurrencyCode } from './currency.js';
import { Decimal } from './decimal.js';
import { MoneyError } from './errors.js';
import { toDecimal } from './parse.js';

/** JSON form of a {@link Money}: the amount as a decimal string, never a number. */
export interface MoneyJson {
  amount: string;
  currency: CurrencyCode;
}

/** An immutable amount of one currency, exact (decimal.js) until explicitly rounded. */
export class Money {
  readonly amount: Decimal;
  readonly currency: CurrencyCode;

  private constructor(amount: Decimal, currency: CurrencyCode) {
    this.amount = amount.isZero() ? new Decimal(0) : amount;
    this.currency = currency;
    Object.freeze(this);
  }

  /** `amount` must be a decimal string, a Decimal, a safe integer or a bigint (no binary floats). */
  static of(amount: Decimal.Value, currency: CurrencyCode): Money {
    return new Money(toDecimal(amount), assertCurrency(currency));
  }

  static zero(currency: CurrencyCode): Money {
    return new Money(new Decimal(0), assertCurrency(currency));
  }

  /** Parses `{ amount: "12.50", currency: "CNY" }`. */
  static fromJSON(json: MoneyJson): Money {
    return Money.of(json.amount, json.currency);
  }

  /** Σ of `list`, exact; every element must be in `currency`. An empty list sums to zero. */
  static sum(list: Iterable<Money>, currency: CurrencyCode): Money {
    let total = Money.zero(currency);
    for (const m of list) total = total.plus(m);
    return total;
  }

  /** Digits of this currency's minor unit. */
  get minorDigits(): number {
    return minorUnitDigits(this.currency);
  }

  private same(other: Money): void {
    if (!(other instanceof Money)) {
      throw new TypeError('expected a Money');
    }
    if (other.currency !== this.currency) {
      throw new MoneyError(
        'currency_mismatch',
        `currency mismatch: ${this.currency} vs ${other.currency}`,
      );
    }
  }

  plus(other: Money): Money {
    this.same(other);
    return new Money(this.amount.plus(other.amount), this.currency);
  }

  minus(other: Money): Money {
    this.same(other);
    return new Money(this.amount.minus(other.amount), this.currency);
  }

  /** Exact product (no rounding beyond the 60 significant digits of Decimal). */
  times(factor: Decimal.Value): Money {
    return new Money(this.amount.times(toDecimal(factor)), this.currency);
  }

  negated(): Money {
    return new Money(this.amount.negated(), this.currency);
  }

  abs(): Money {
    return new Money(this.amount.abs(), this.currency);
  }

  /** Rounded half-even (GB/T 8170) to the currency's minor unit. */
  roundHalfEven(): Money {
    return new Money(
      this.amount.toDecimalPlaces(this.minorDigits, Decimal.ROUND_HALF_EVEN),
      this.currency,
    );
  }

  /** Rounded towards +infinity to the currency's minor unit (escrow holds). */
  roundUp(): Money {
    return new Money(
      this.amount.toDecimalPlaces(this.minorDigits, Decimal.ROUND_CEIL),
      this.currency,
    );
  }

  /** True when the amount has no digits below the currency's minor unit. */
  isAtMinorPrecision(): boolean {
    return this.amount.decimalPlaces() <= this.minorDigits;
  }

  isZero(): boolean {
    return this.amount.isZero();
  }

  isNegative(): boolean {
    return this.amount.isNegative() && !this.amount.isZero();
  }

  isPositive(): boolean {
    return this.amount.isPositive() && !this.amount.isZero();
  }

  /** -1, 0 or 1; throws `currency_mismatch` across currencies. */
  compare(other: Money): -1 | 0 | 1 {
    this.same(other);
    return this.amount.comparedTo(other.amount) as -1 | 0 | 1;
  }

  /** Same currency and numerically equal amount (`"1.5"` equals `"1.50"`). Never throws. */
  equals(other: Money): boolean {
    return (
      other instanceof Money && other.currency === this.currency && this.amount.eq(other.amount)
    );
  }

  gt(other: Money): boolean {
    return this.compare(other) > 0;
  }

  gte(other: Money): boolean {
    return this.compare(other) >= 0;
  }

  lt(other: Money): boolean {
    return this.compare(other) < 0;
  }

  lte(other: Money): boolean {
    return this.compare(other) <= 0;
  }

  /**
   * The amount as a plain decimal string: with exactly the minor digits when the value is at
   * minor precision (`"12.50"`, JPY `"1200"`), otherwise its exact decimal (`"0.131866667"`).
   */
  toString(): string {
    const digits = this.minorDigits;
    return this.amount.decimalPlaces() <= digits
      ? this.amount.toFixed(digits)
      : this.amount.toFixed();
  }

  toJSON(): MoneyJson {
    return { amount: this.toString(), currency: this.currency };
  }
}

/** Platform fee: `round_half_even(gross × takeRate)` to the minor unit. Seller net = gross − fee. */
export function fee(gross: Money, takeRate: Decimal.Value): Money {
  return gross.times(takeRate).roundHalfEven();
}
