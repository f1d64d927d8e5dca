import { Decimal } from './decimal.js';
import { MoneyError } from './errors.js';

/** Plain decimal: optional minus, digits, optional fraction. No '+', exponent, spaces, NaN, Infinity. */
const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

/** Longest decimal string accepted (digits and signs); guards against absurd inputs. */
const MAX_DECIMAL_LENGTH = 200;

function normalizeZero(d: Decimal): Decimal {
  return d.isZero() && d.isNegative() ? new Decimal(0) : d;
}

/**
 * Strict decimal string parser: `"12"`, `"-0.131866667"`, `"007.50"`. Rejects `''`, `'NaN'`,
 * `'Infinity'`, exponent notation, a leading `'+'`, `'.5'`, `'5.'`, whitespace and anything that
 * is not a string (binary floats passed as numbers included). Throws `MoneyError('invalid_decimal')`.
 */
export function parseDecimal(s: string): Decimal {
  if (typeof s !== 'string') {
    throw new MoneyError(
      'invalid_decimal',
      `expected a decimal string, got ${typeof s}${typeof s === 'number' ? ` (${String(s)})` : ''}`,
    );
  }
  if (s.length > MAX_DECIMAL_LENGTH || !DECIMAL_RE.test(s)) {
    throw new MoneyError(
      'invalid_decimal',
      `not a plain decimal string: ${JSON.stringify(s.slice(0, 40))}`,
    );
  }
  return normalizeZero(new Decimal(s));
}

/**
 * Converts a `Decimal.Value` without ever trusting a binary float: strings go through
 * {@link parseDecimal}, Decimals (of any decimal.js clone) must be finite, numbers must be safe
 * integers, bigints are exact. Throws `MoneyError('invalid_decimal')` otherwise.
 */
export function toDecimal(value: Decimal.Value): Decimal {
  if (typeof value === 'string') return parseDecimal(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new MoneyError(
        'invalid_decimal',
        `binary floating-point number ${String(value)} rejected; pass a decimal string`,
      );
    }
    return normalizeZero(new Decimal(value));
  }
  if (typeof value === 'bigint') return new Decimal(value.toString());
  const d: unknown = value;
  if (!Decimal.isDecimal(d)) {
    throw new MoneyError('invalid_decimal', `not a decimal value: ${typeof d}`);
  }
  if (!d.isFinite()) {
    throw new MoneyError('invalid_decimal', `non-finite decimal ${d.toString()} rejected`);
  }
  return normalizeZero(d instanceof Decimal ? d : new Decimal(d));
}

function checkDp(dp: number): void {
  if (!Number.isSafeInteger(dp) || dp < 0) {
    throw new RangeError(`decimal places must be a non-negative integer, got ${String(dp)}`);
  }
}

/** Rounds half-even (GB/T 8170 四舍六入五成双) to `dp` decimal places: 2.345→2.34, 2.355→2.36. */
export function roundHalfEven(d: Decimal.Value, dp: number): Decimal {
  checkDp(dp);
  return normalizeZero(toDecimal(d).toDecimalPlaces(dp, Decimal.ROUND_HALF_EVEN));
}

/** Rounds towards +infinity to `dp` decimal places (escrow holds, upper bounds). */
export function roundCeil(d: Decimal.Value, dp: number): Decimal {
  checkDp(dp);
  return normalizeZero(toDecimal(d).toDecimalPlaces(dp, Decimal.ROUND_CEIL));
}

/** `d` as a fixed-point string with exactly `dp` places, rounded half-even. */
export function toFixedHalfEven(d: Decimal.Value, dp: number): string {
  return roundHalfEven(d, dp).toFixed(dp);
}
