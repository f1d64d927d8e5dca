export type TransparencyErrorCode =
  | 'invalid_argument'
  | 'bad_record'
  | 'bad_proof'
  | 'bad_checkpoint'
  | 'stale_checkpoint'
  | 'inconsistent';

/** Thrown by `@suanli/transparency`; `code` is stable and machine-readable. */
export class TransparencyError extends Error {
  readonly code: TransparencyErrorCode;

  constructor(code: TransparencyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransparencyError';
    this.code = code;
  }
}
