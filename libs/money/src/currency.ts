import { MoneyError } from './errors.js';

/** ISO 4217 alphabetic code: three upper-case ASCII letters (`CNY`, `USD`). */
export type CurrencyCode = string;

const CURRENCY_RE = /^[A-Z]{3}$/;

/** ISO 4217 currencies whose minor unit is not 2 digits. Every other code has 2. */
const MINOR_UNIT_EXCEPTIONS: Readonly<Record<string, number>> = {
  // 0 digits
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  // 3 digits
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  // 4 digits
  CLF: 4,
  UYW: 4,
};

export function isCurrencyCode(value: unknown): value is CurrencyCode {
  return typeof value === 'string' && CURRENCY_RE.test(value);
}

/** Returns `currency` if it is a well-formed ISO 4217 code, else throws `MoneyError('invalid_currency')`. */
export function assertCurrency(currency: unknown): CurrencyCode {
  if (!isCurrencyCode(currency)) {
    throw new MoneyError(
      'invalid_currency',
      `invalid currency code ${JSON.stringify(currency)}: expected 3 upper-case letters (ISO 4217)`,
    );
  }
  return currency;
}

/** Digits of the currency's minor unit: 2 by default, 0 for JPY/KRW…, 3 for BHD/KWD…. */
export function minorUnitDigits(currency: CurrencyCode): number {
  assertCurrency(currency);
  return MINOR_UNIT_EXCEPTIONS[currency] ?? 2;
}
