export type FederationErrorCode =
  /** Not the expected shape (not a JWS, payload not JSON, a field missing or malformed). */
  | 'malformed'
  /** No key the verifier trusts could have signed it (pin, directory or admitted thumbprints). */
  | 'untrusted_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  /** A directory older than (or forking) the cached one. */
  | 'stale_serial'
  | 'unknown_platform'
  | 'suspended_platform'
  | 'wrong_audience'
  | 'lifetime_too_long';

/** Thrown by `@suanli/federation`; `code` is stable and machine-readable. */
export class FederationError extends Error {
  readonly code: FederationErrorCode;

  constructor(code: FederationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FederationError';
    this.code = code;
  }
}
