import {
  calculateJwkThumbprint,
  CompactSign,
  compactVerify,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type ProtectedHeaderParameters,
} from 'jose';
import { canonicalJson } from './canonical-json.js';
import { CryptoError } from './errors.js';

export type { JSONWebKeySet, JWK } from 'jose';

/** A signing key pair as JWKs; both carry `kid`, `alg` and `use: 'sig'`. */
export type SigningKey = { kid: string; privateJwk: JWK; publicJwk: JWK };

/** JWS algorithms {@link verifyJws} accepts (`Ed25519` is RFC 9864's name for EdDSA/Ed25519). */
export const VERIFY_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256'] as const;
type VerifyAlg = (typeof VERIFY_ALGORITHMS)[number];

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

/** `jwk` without its private members (and without `key_ops`, `ext`). */
export function publicJwkOf(jwk: JWK): JWK {
  const out: Record<string, unknown> = { ...jwk };
  for (const m of PRIVATE_MEMBERS) delete out[m];
  delete out['key_ops'];
  delete out['ext'];
  return out as JWK;
}

/** RFC 7638 SHA-256 thumbprint (base64url) of the key's public part. */
export async function jwkThumbprint(jwk: JWK): Promise<string> {
  try {
    return await calculateJwkThumbprint(publicJwkOf(jwk), 'sha256');
  } catch (e) {
    throw new CryptoError('invalid_key', `cannot compute a JWK thumbprint: ${String(e)}`, {
      cause: e,
    });
  }
}

/** A fresh Ed25519 signing key (alg EdDSA); `kid` defaults to the RFC 7638 thumbprint. */
export async function generateSigningKey(kid?: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', {
    crv: 'Ed25519',
    extractable: true,
  });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  const id = kid ?? (await calculateJwkThumbprint(pub, 'sha256'));
  const meta = { kid: id, alg: 'EdDSA', use: 'sig' };
  return {
    kid: id,
    privateJwk: { kty: priv.kty, crv: priv.crv, x: priv.x, d: priv.d, ...meta },
    publicJwk: { kty: pub.kty, crv: pub.crv, x: pub.x, ...meta },
  };
}

function signingAlg(jwk: JWK): 'EdDSA' | 'ES256' {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new CryptoError(
    'invalid_key',
    `unsupported signing key (kty ${String(jwk.kty)}, crv ${String(jwk.crv)}); expected Ed25519 or P-256`,
  );
}

/**
 * Compact JWS of `payload` (serialized as RFC 8785 canonical JSON), header `{ alg, kid }`:
 * `EdDSA` for an Ed25519 key (ES256 for a P-256 key). `kid` is the JWK's, else its thumbprint.
 */
export async function signJws(payload: object, privateJwk: JWK): Promise<string> {
  if (typeof privateJwk !== 'object' || privateJwk === null || typeof privateJwk.d !== 'string') {
    throw new CryptoError('invalid_key', 'signJws needs a private JWK');
  }
  const alg = signingAlg(privateJwk);
  const kid = privateJwk.kid ?? (await jwkThumbprint(privateJwk));
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    const { kty, crv, x, y, d } = privateJwk;
    key = await importJWK({ kty, crv, x, y, d }, alg);
  } catch (e) {
    throw new CryptoError('invalid_key', `cannot import the signing key: ${String(e)}`, {
      cause: e,
    });
  }
  const bytes = new TextEncoder().encode(canonicalJson(payload));
  return new CompactSign(bytes).setProtectedHeader({ alg, kid }).sign(key);
}

function keyFits(jwk: JWK, alg: VerifyAlg): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (alg === 'ES256') {
    return jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg === undefined || jwk.alg === alg);
  }
  return (
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    (jwk.alg === undefined || jwk.alg === 'EdDSA' || jwk.alg === 'Ed25519')
  );
}

function bad(message: string, cause?: unknown): CryptoError {
  return new CryptoError('bad_signature', message, cause === undefined ? undefined : { cause });
}

/**
 * Verifies a compact JWS against `keys` (public JWKs; private members are ignored) and returns
 * its JSON payload and the `kid` of the key that verified it. The key is chosen by the header's
 * `kid` (a key without `kid` matches by thumbprint); without a header `kid` every fitting key is
 * tried. Accepts EdDSA (Ed25519) and ES256 (P-256). Any failure — malformed JWS, unknown
 * algorithm or key, wrong signature, payload not JSON — throws `CryptoError('bad_signature')`.
 */
export async function verifyJws<T = unknown>(
  jws: string,
  keys: JWK[] | JSONWebKeySet,
): Promise<{ payload: T; kid: string }> {
  if (typeof jws !== 'string' || jws.split('.').length !== 3) {
    throw bad('not a compact JWS');
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(jws);
  } catch (e) {
    throw bad('malformed JWS header', e);
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !(VERIFY_ALGORITHMS as readonly string[]).includes(alg)) {
    throw bad(`algorithm ${JSON.stringify(alg)} not accepted`);
  }
  const set: unknown = Array.isArray(keys) ? keys : keys?.keys;
  const list: JWK[] = Array.isArray(set) ? (set as JWK[]) : [];
  const headerKid = typeof header.kid === 'string' ? header.kid : undefined;

  const candidates: { jwk: JWK; kid: string }[] = [];
  for (const jwk of list) {
    if (typeof jwk !== 'object' || jwk === null || !keyFits(jwk, alg as VerifyAlg)) continue;
    const kid = jwk.kid ?? (await jwkThumbprint(jwk));
    if (headerKid === undefined || kid === headerKid) candidates.push({ jwk, kid });
  }
  if (candidates.length === 0) {
    throw bad(`no ${alg} key${headerKid === undefined ? '' : ` with kid ${headerKid}`} to verify`);
  }

  let lastError: unknown;
  for (const { jwk, kid } of candidates) {
    let result: Awaited<ReturnType<typeof compactVerify>>;
    try {
      const key = await importJWK(publicJwkOf(jwk), alg);
      result = await compactVerify(jws, key, { algorithms: [alg] });
    } catch (e) {
      lastError = e;
      continue;
    }
    let payload: T;
    try {
      payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(result.payload)) as T;
    } catch (e) {
      throw bad('signed payload is not JSON', e);
    }
    return { payload, kid };
  }
  throw bad('signature does not verify', lastError);
}
