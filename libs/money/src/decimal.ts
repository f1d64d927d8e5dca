import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The one Decimal constructor of the exchange: a decimal.js clone with 60 significant digits,
 * half-even rounding (GB/T 8170) and plain (never exponential) string output.
 * Import it from `@suanli/money`; never configure the global decimal.js.
 */
export const Decimal: typeof DecimalJs = DecimalJs.clone({
  precision: 60,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});

/** An instance of {@link Decimal}. */
export type Decimal = DecimalJs;

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace Decimal {
  /** What the Decimal constructor accepts. */
  export type Value = DecimalJs.Value;
  export type Rounding = DecimalJs.Rounding;
}
