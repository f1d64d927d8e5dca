export type MoneyErrorCode = 'invalid_decimal' | 'invalid_currency' | 'currency_mismatch';

/** Thrown by `@suanli/money`; `code` is stable and machine-readable. */
export class MoneyError extends Error {
  readonly code: MoneyErrorCode;

  constructor(code: MoneyErrorCode, message: string) {
    super(message);
    this.name = 'MoneyError';
    this.code = code;
  }
}
