import { randomToken, signJws, type JWK } from '@suanli/crypto';
import { z } from 'zod';
import { entryOf, PLATFORM_CODE, CLOCK_SKEW_SECONDS, type Directory } from './directory.js';
import { FederationError } from './errors.js';
import { unverifiedPayload, verifiedPayload } from './jws-payload.js';

/** An assertion lives at most this long (`exp - iat`, seconds; docs/federation.md). */
export const ASSERTION_MAX_LIFETIME_SECONDS = 60;

const claimsSchema = z.object({
  iss: z.string().regex(PLATFORM_CODE),
  aud: z.string().regex(PLATFORM_CODE),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  jti: z.string().min(16).max(128),
});

export type AssertionClaims = z.infer<typeof claimsSchema>;

/** A platform-to-platform client assertion (RFC 7523 style, EdDSA): the caller signs it per call. */
export async function signAssertion(
  c: { iss: string; aud: string; nowSeconds: number; lifetimeSeconds?: number; jti?: string },
  privateJwk: JWK,
): Promise<string> {
  const lifetime = c.lifetimeSeconds ?? ASSERTION_MAX_LIFETIME_SECONDS;
  return signJws(
    {
      iss: c.iss,
      aud: c.aud,
      iat: c.nowSeconds,
      exp: c.nowSeconds + lifetime,
      jti: c.jti ?? randomToken(18),
    },
    privateJwk,
  );
}

/**
 * Verifies a client assertion against the directory: the issuer is listed and active, the
 * signature is by one of its listed keys, `aud` is this platform, `exp - iat` at most 60 s and
 * the assertion is current. Single use of `jti` is the caller's to enforce (it needs storage):
 * it must remember the `jti` until `exp` (returned).
 */
export async function verifyAssertion(
  token: string,
  opts: { audience: string; directory: Directory; nowSeconds: number },
): Promise<AssertionClaims> {
  const claimed = unverifiedPayload(token, claimsSchema, 'the client assertion');
  const entry = entryOf(opts.directory, claimed.iss);
  if (!entry) {
    throw new FederationError('unknown_platform', `${claimed.iss} is not in the directory`);
  }
  if (entry.state !== 'active') {
    throw new FederationError('suspended_platform', `${claimed.iss} is ${entry.state}`);
  }
  const { payload } = await verifiedPayload(
    token,
    entry.keys,
    claimsSchema,
    'the client assertion',
  );
  if (payload.aud !== opts.audience) {
    throw new FederationError('wrong_audience', `the assertion is for ${payload.aud}`);
  }
  if (payload.exp <= payload.iat || payload.exp - payload.iat > ASSERTION_MAX_LIFETIME_SECONDS) {
    throw new FederationError(
      'lifetime_too_long',
      `an assertion lives at most ${ASSERTION_MAX_LIFETIME_SECONDS} s`,
    );
  }
  if (payload.exp <= opts.nowSeconds) {
    throw new FederationError('expired', `the assertion expired at ${payload.exp}`);
  }
  if (payload.iat > opts.nowSeconds + CLOCK_SKEW_SECONDS) {
    throw new FederationError('not_yet_valid', `the assertion is issued in the future`);
  }
  return payload;
}
