/** The CRI segment an error is about. */
export type CriSegment =
  | 'scheme'
  | 'registrant'
  | 'industry'
  | 'location'
  | 'class'
  | 'form'
  | 'spec'
  | 'serial'
  | 'check'
  | 'length';

/**
 * A malformed CRI (or part of one). `code` is `invalid_cri`, or `check_mismatch` for a well-formed
 * code whose check character is wrong; `segment` names the offending segment and, for a wrong
 * check character, `expected` is the right one.
 */
export class CriError extends Error {
  readonly code: 'invalid_cri' | 'check_mismatch';
  readonly segment: CriSegment;
  readonly expected?: string;
  /** The rule that was broken, without the segment prefix. */
  readonly reason: string;

  constructor(segment: CriSegment, message: string, expected?: string) {
    super(`CRI ${segment}: ${message}`);
    this.reason = message;
    this.name = 'CriError';
    this.segment = segment;
    this.code = expected === undefined ? 'invalid_cri' : 'check_mismatch';
    if (expected !== undefined) this.expected = expected;
  }
}
