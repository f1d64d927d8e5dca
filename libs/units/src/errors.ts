export type UnitsErrorCode =
  'unknown_catalog' | 'unknown_model' | 'unknown_unit' | 'invalid_usage' | 'invalid_context';

/** Thrown by `@suanli/units`; `code` is stable and machine-readable. */
export class UnitsError extends Error {
  readonly code: UnitsErrorCode;

  constructor(code: UnitsErrorCode, message: string) {
    super(message);
    this.name = 'UnitsError';
    this.code = code;
  }
}
