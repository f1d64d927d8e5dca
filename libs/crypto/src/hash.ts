import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CryptoError } from './errors.js';

/** Lower-case hex SHA-256 of `data` (strings are hashed as UTF-8). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of `data` as bytes (strings are hashed as UTF-8). */
export function sha256(data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** Lower-case hex HMAC-SHA256 of `data` under `key` (strings as UTF-8). */
export function hmacSha256Hex(key: string | Uint8Array, data: string | Uint8Array): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** `bytes` random bytes (CSPRNG), base64url without padding: 32 bytes → 43 characters. */
export function randomToken(bytes = 32): string {
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > 1024) {
    throw new CryptoError('invalid_argument', `randomToken: bytes must be 1..1024, got ${bytes}`);
  }
  return randomBytes(bytes).toString('base64url');
}

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Compared as SHA-256 digests in
 * constant time, so neither the token's characters nor its length leak through timing.
 */
export function bearerTokenMatches(
  authorization: string | null | undefined,
  token: string,
): boolean {
  if (token === '') return false;
  const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}
