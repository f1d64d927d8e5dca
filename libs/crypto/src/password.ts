import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CryptoError } from './errors.js';

const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

// Bounds on stored parameters, so that a tampered hash cannot make verification hang or blow up.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

function scryptAsync(
  password: string,
  salt: Uint8Array,
  keylen: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function maxmem(n: number, r: number, p: number): number {
  return 128 * n * r * p + 128 * r * (n + p + 2) + 1024 * 1024;
}

/** `scrypt$16384$8$1$<salt>$<hash>` (salt 16 random bytes, hash 32 bytes, both base64url). */
export async function hashPassword(pw: string): Promise<string> {
  if (typeof pw !== 'string') {
    throw new CryptoError('invalid_argument', 'hashPassword: password must be a string');
  }
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(pw, salt, KEY_BYTES, { N, r: R, p: P, maxmem: maxmem(N, R, P) });
  return ['scrypt', N, R, P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const INT = /^[1-9]\d{0,7}$/;

/** True when `pw` matches `encoded` (from {@link hashPassword}); false for any malformed input. */
export async function verifyPassword(pw: string, encoded: string): Promise<boolean> {
  if (typeof pw !== 'string' || typeof encoded !== 'string') return false;
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, nText, rText, pText, saltText, hashText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (![nText, rText, pText].every((t) => INT.test(t))) return false;
  if (!B64URL.test(saltText) || !B64URL.test(hashText)) return false;
  const n = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  if (n < 2 || n > MAX_N || (n & (n - 1)) !== 0 || r > MAX_R || p > MAX_P) return false;
  const salt = Buffer.from(saltText, 'base64url');
  const expected = Buffer.from(hashText, 'base64url');
  if (salt.length < 8 || expected.length < 16 || expected.length > 64) return false;
  let actual: Buffer;
  try {
    actual = await scryptAsync(pw, salt, expected.length, { N: n, r, p, maxmem: maxmem(n, r, p) });
  } catch {
    return false;
  }
  return timingSafeEqual(actual, expected);
}
