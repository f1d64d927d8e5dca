import { createHash, createPrivateKey, type JsonWebKey, sign } from 'node:crypto';

// A compact JWS signer for the assessor portal's form, on node:crypto alone (the storefront's
// bundler does not compile the workspace crypto library). Same output as @suanli/crypto's
// signJws: header {alg, kid}, EdDSA for Ed25519 keys, ES256 (IEEE P1363 signature) for P-256.

const b64u = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** RFC 7638 SHA-256 thumbprint of an OKP or EC key's public members. */
export function thumbprint(jwk: Record<string, unknown>): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

export function signCompactJws(payload: object, jwk: Record<string, unknown>): string {
  const { kty, crv, x, y, d } = jwk;
  const ed = kty === 'OKP' && crv === 'Ed25519';
  const ec = kty === 'EC' && crv === 'P-256';
  if (!ed && !ec) throw new Error('expected an Ed25519 (OKP) or P-256 (EC) private key');
  if (typeof d !== 'string') throw new Error('the key has no private part ("d")');
  const key = createPrivateKey({
    key: (ec ? { kty, crv, x, y, d } : { kty, crv, x, d }) as JsonWebKey,
    format: 'jwk',
  });
  const kid = typeof jwk.kid === 'string' ? jwk.kid : thumbprint(jwk);
  const input = `${b64u(JSON.stringify({ alg: ed ? 'EdDSA' : 'ES256', kid }))}.${b64u(JSON.stringify(payload))}`;
  const signature = ed
    ? sign(null, Buffer.from(input), key)
    : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(signature)}`;
}
