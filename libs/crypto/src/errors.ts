export type CryptoErrorCode = 'bad_signature' | 'invalid_key' | 'invalid_json' | 'invalid_argument';

/** Thrown by `@suanli/crypto`; `code` is stable and machine-readable. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CryptoError';
    this.code = code;
  }
}
