import { jwkThumbprint, publicJwkOf, signJws, type JWK } from '@suanli/crypto';
import { z } from 'zod';
import { CLOCK_SKEW_SECONDS, levelOfCode, PLATFORM_CODE } from './directory.js';
import { FederationError } from './errors.js';
import { keysWithThumbprints, unverifiedPayload, verifiedPayload } from './jws-payload.js';

export const JOIN_TYPE = 'suanli.join/v1';
/** A join request is accepted this long after it was signed (seconds). */
export const JOIN_MAX_AGE_SECONDS = 300;

const joinSchema = z.object({
  typ: z.literal(JOIN_TYPE),
  code: z.string().regex(PLATFORM_CODE),
  aud: z.string().regex(PLATFORM_CODE),
  name: z.string().min(1).max(200),
  url: z.string().url(),
  keys: z
    .array(z.object({ kty: z.string() }).passthrough())
    .min(1)
    .max(20),
  iat: z.number().int().nonnegative(),
});

export type JoinRequest = Omit<z.infer<typeof joinSchema>, 'keys'> & { keys: JWK[] };

/**
 * The joining platform's half of the handshake: its code, name, URL and public keys (current
 * and retired), signed by its current key to the national platform (`aud`).
 */
export async function signJoinRequest(
  r: { code: string; national: string; name: string; url: string; keys: JWK[]; nowSeconds: number },
  privateJwk: JWK,
): Promise<string> {
  return signJws(
    {
      typ: JOIN_TYPE,
      code: r.code,
      aud: r.national,
      name: r.name,
      url: r.url,
      keys: r.keys.map(publicJwkOf),
      iat: r.nowSeconds,
    },
    privateJwk,
  );
}

/**
 * The national platform's check of a join request against what its operator admitted: the
 * code, a recent `iat`, and a signature by a key among the request's keys whose thumbprint the
 * operator admitted (possession of the admitted key). Only admitted keys are kept: the result's
 * `keys` and `thumbprints` are those of the request's keys that the operator admitted, so a key
 * rotation is admitted by adding the new thumbprint, and a retired key stays listed while its
 * thumbprint does.
 */
export async function verifyJoinRequest(
  jws: string,
  opts: { national: string; code: string; admittedThumbprints: string[]; nowSeconds: number },
): Promise<{ request: JoinRequest; keys: JWK[]; thumbprints: string[]; signedBy: string }> {
  const claimed = unverifiedPayload(jws, joinSchema, 'the join request');
  if (claimed.code !== opts.code) {
    throw new FederationError('malformed', `the request is for ${claimed.code}, not ${opts.code}`);
  }
  levelOfCode(claimed.code);
  const admitted = await keysWithThumbprints(claimed.keys as JWK[], opts.admittedThumbprints);
  if (admitted.length === 0) {
    throw new FederationError('untrusted_key', 'the request carries no admitted key');
  }
  const { payload, kid } = await verifiedPayload(jws, admitted, joinSchema, 'the join request');
  if (payload.aud !== opts.national) {
    throw new FederationError('wrong_audience', `the request is addressed to ${payload.aud}`);
  }
  if (payload.iat > opts.nowSeconds + CLOCK_SKEW_SECONDS) {
    throw new FederationError('not_yet_valid', 'the request is signed in the future');
  }
  if (payload.iat + JOIN_MAX_AGE_SECONDS < opts.nowSeconds) {
    throw new FederationError('expired', 'the join request is older than 5 minutes');
  }
  const keys = admitted.map(publicJwkOf);
  const thumbprints = await Promise.all(keys.map((k) => jwkThumbprint(k)));
  return { request: payload as JoinRequest, keys, thumbprints, signedBy: kid };
}
