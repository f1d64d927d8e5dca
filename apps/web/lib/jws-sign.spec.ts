import { describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair } from 'jose';
import { generateSigningKey, jwkThumbprint, verifyJws } from '@suanli/crypto';
import { signCompactJws, thumbprint } from './jws-sign';

describe('portal JWS signer', () => {
  it('signs EdDSA that @suanli/crypto verifies, with the key kid', async () => {
    const key = await generateSigningKey();
    const jws = signCompactJws({ hello: 'world' }, { ...key.privateJwk });
    const { payload, kid } = await verifyJws<{ hello: string }>(jws, [key.publicJwk]);
    expect(payload.hello).toBe('world');
    expect(kid).toBe(key.kid);
  });

  it('signs ES256 with a P-256 key; kid defaults to the RFC 7638 thumbprint', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pub = await exportJWK(publicKey);
    const priv = await exportJWK(privateKey);
    expect(thumbprint(pub as Record<string, unknown>)).toBe(await jwkThumbprint(pub));
    const jws = signCompactJws({ n: 1 }, priv as Record<string, unknown>);
    const { payload } = await verifyJws<{ n: number }>(jws, [pub]);
    expect(payload.n).toBe(1);
  });

  it('refuses public or unsupported keys', () => {
    expect(() => signCompactJws({}, { kty: 'OKP', crv: 'Ed25519', x: 'abc' })).toThrow('"d"');
    expect(() => signCompactJws({}, { kty: 'RSA', n: 'x', e: 'AQAB', d: 'y' })).toThrow('Ed25519');
  });
});
