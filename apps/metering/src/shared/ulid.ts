import { randomBytes } from 'node:crypto';

/** Crockford base32, as ULIDs use it. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID (26 characters: 48-bit millisecond time + 80 random bits, Crockford base32). Sortable by
 * creation time, unique without coordination: the identity of a usage event or a batch.
 */
export function ulid(now: number = Date.now()): string {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i++) random += ALPHABET[bytes[i] % 32];
  return time + random;
}

/** The millisecond timestamp in a ULID's first 10 characters (NaN when it is not a ULID). */
export function ulidTime(id: string): number {
  let t = 0;
  for (const ch of id.slice(0, 10)) {
    const v = ALPHABET.indexOf(ch.toUpperCase());
    if (v < 0) return NaN;
    t = t * 32 + v;
  }
  return t;
}
