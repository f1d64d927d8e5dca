// The one place where metering touches @suanli/crypto (JWS and hashes), so that both the agent
// and the ingest sign and verify the same way.
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { sha256Hex, signJws, verifyJws, type JWK } from '@suanli/crypto';

/** The scrape token check of `/metrics` (bearer, constant time), shared with market-api. */
export { bearerTokenMatches } from '@suanli/crypto';

export type Jwk = JWK;

/** Signs `payload` as a compact JWS (EdDSA) with the agent's private key. */
export async function signBatch(payload: object, privateJwk: Jwk): Promise<string> {
  return signJws(payload, privateJwk);
}

/**
 * Verifies `jws` against the agent's registered public keys; throws when it does not verify.
 * The usual batch (header exactly `{alg: EdDSA, kid}`, one registered Ed25519 key of that kid)
 * is verified once with node:crypto and a cached key object; anything else, and any failure,
 * goes through `verifyJws`, which decides and words the error.
 */
export async function verifyBatch(jws: string | Buffer, publicJwks: Jwk[]): Promise<unknown> {
  const fast = verifyEd25519(jws, publicJwks);
  if (fast !== undefined) return fast.payload;
  const { payload } = await verifyJws(typeof jws === 'string' ? jws : jws.toString(), publicJwks);
  return payload;
}

/** Hex SHA-256 of a batch's JWS (its UTF-8 bytes): the `prev` of the next batch. */
export function batchHash(jws: string | Buffer): string {
  return sha256Hex(jws);
}

const B64URL = /^[A-Za-z0-9_-]*$/;
/** Imported Ed25519 public keys by their `x` (a batch is verified without importing again). */
const keyObjects = new Map<string, KeyObject>();

function keyObjectOf(x: string): KeyObject {
  let key = keyObjects.get(x);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keyObjects.size >= 10_000) keyObjects.clear();
    keyObjects.set(x, key);
  }
  return key;
}

/**
 * The common case of `verifyJws` for an Ed25519-signed compact JWS: `{ payload }` when it
 * verifies, undefined when it does not or is anything unusual (the caller then asks jose).
 * It accepts nothing that `verifyJws` rejects: same key filter (kty, crv, use, alg, kid),
 * strict base64url, a header of only `alg` and `kid`, a payload of valid UTF-8 JSON.
 */
export function verifyEd25519(jws: string | Buffer, keys: Jwk[]): { payload: unknown } | undefined {
  // On the bytes: a JWS is ASCII (anything else fails the base64url checks below and goes to
  // jose), so the signing input is a view of the message, not a copy.
  const bytes = typeof jws === 'string' ? Buffer.from(jws, 'utf8') : jws;
  const d1 = bytes.indexOf(0x2e);
  const d2 = d1 < 0 ? -1 : bytes.indexOf(0x2e, d1 + 1);
  if (d2 < 0 || bytes.indexOf(0x2e, d2 + 1) >= 0) return undefined;
  const h = bytes.toString('latin1', 0, d1);
  const p = bytes.toString('latin1', d1 + 1, d2);
  const s = bytes.toString('latin1', d2 + 1);
  if (!B64URL.test(h) || !B64URL.test(s) || !B64URL.test(p)) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    const { alg, kid, ...rest } = header as { alg?: unknown; kid?: unknown };
    if (alg !== 'EdDSA' || typeof kid !== 'string' || Object.keys(rest).length > 0) {
      return undefined;
    }
    const candidates = keys.filter(
      (k) =>
        typeof k === 'object' &&
        k !== null &&
        k.kty === 'OKP' &&
        k.crv === 'Ed25519' &&
        typeof k.x === 'string' &&
        (k.use === undefined || k.use === 'sig') &&
        (k.alg === undefined || k.alg === 'EdDSA' || k.alg === 'Ed25519') &&
        k.kid === kid,
    );
    const only = candidates[0];
    if (candidates.length !== 1 || only === undefined || typeof only.x !== 'string') {
      return undefined;
    }
    const signature = Buffer.from(s, 'base64url');
    if (signature.length !== 64) return undefined;
    const input = bytes.subarray(0, d2);
    if (!verifySignature(null, input, keyObjectOf(only.x), signature)) return undefined;
    const json = Buffer.from(p, 'base64url');
    if (!isUtf8(json)) return undefined;
    return { payload: JSON.parse(json.toString('utf8')) as unknown };
  } catch {
    return undefined;
  }
}
