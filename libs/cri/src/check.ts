import { CriError } from './errors.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const SEPARATORS = /[:.-]/g;

/**
 * ISO/IEC 7064 hybrid MOD 37,36 check character of a CRI body: the code up to and including the
 * serial (a trailing `:` is allowed). Separators `:` `.` `-` are stripped; what remains must be
 * `0-9A-Z`.
 *
 * Catches every single-character substitution. It does not catch every adjacent transposition
 * (the product's CRI definition said it does; docs/identifier.md): from recurrence state p, swapping the values (18 − p) and
 * (19 − p) mod 36 leaves the state unchanged — 36 of the 22 680 (state, pair) combinations.
 * The algorithm is kept exactly as specified, since the published test vectors depend on it.
 */
export function checkCharacter(bodyWithoutCheck: string): string {
  const chars = bodyWithoutCheck.replace(SEPARATORS, '');
  let p = 36;
  for (const ch of chars) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) {
      throw new CriError('check', `cannot compute a check character over ${JSON.stringify(ch)}`);
    }
    let s = (p + v) % 36;
    if (s === 0) s = 36;
    p = (2 * s) % 37;
  }
  return ALPHABET.charAt((37 - p) % 36);
}
