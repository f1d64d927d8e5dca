import { CryptoError, jwkThumbprint, verifyJws, type JWK } from '@suanli/crypto';
import { base64url } from 'jose';
import type { z } from 'zod';
import { FederationError } from './errors.js';

/**
 * The payload of a compact JWS, parsed and checked against `schema` BEFORE its signature is
 * verified: it names who signed it (the issuer, the directory's national entry), so the verifier
 * knows which keys to try. Nothing read here is trusted until {@link verifiedPayload} succeeds.
 */
export function unverifiedPayload<T>(jws: string, schema: z.ZodType<T>, what: string): T {
  if (typeof jws !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(jws)) {
    throw new FederationError('malformed', `${what} is not a compact JWS`);
  }
  let json: unknown;
  try {
    const bytes = base64url.decode(jws.split('.')[1] as string);
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new FederationError('malformed', `${what}: the payload is not JSON`, { cause: e });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new FederationError(
      'malformed',
      `${what}: ${first ? `${first.path.join('.') || 'payload'}: ${first.message}` : 'bad payload'}`,
    );
  }
  return parsed.data;
}

/** Verifies `jws` with one of `keys` and returns its payload (checked against `schema`). */
export async function verifiedPayload<T>(
  jws: string,
  keys: JWK[],
  schema: z.ZodType<T>,
  what: string,
): Promise<{ payload: T; kid: string }> {
  if (keys.length === 0) throw new FederationError('untrusted_key', `${what}: no trusted key`);
  let verified: { payload: unknown; kid: string };
  try {
    verified = await verifyJws(jws, keys);
  } catch (e) {
    if (e instanceof CryptoError) {
      throw new FederationError('bad_signature', `${what}: ${e.message}`, { cause: e });
    }
    throw e;
  }
  const parsed = schema.safeParse(verified.payload);
  if (!parsed.success) throw new FederationError('malformed', `${what}: bad payload`);
  return { payload: parsed.data, kid: verified.kid };
}

/** The keys among `keys` whose RFC 7638 thumbprint is in `thumbprints`. */
export async function keysWithThumbprints(keys: JWK[], thumbprints: string[]): Promise<JWK[]> {
  const out: JWK[] = [];
  for (const k of keys) {
    try {
      if (thumbprints.includes(await jwkThumbprint(k))) out.push(k);
    } catch {
      // a key that has no thumbprint is trusted by nobody
    }
  }
  return out;
}

/** Seconds since the epoch. */
export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
