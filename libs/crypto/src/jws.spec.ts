import { describe, expect, it } from '@jest/globals';
import {
  calculateJwkThumbprint,
  CompactSign,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import {
  canonicalJson,
  CryptoError,
  generateSigningKey,
  jwkThumbprint,
  publicJwkOf,
  signJws,
  verifyJws,
} from './index.js';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof CryptoError ? e.code : `not a CryptoError: ${String(e)}`;
  }
  return undefined;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64url');
}

// RFC 8037 Appendix A.1 / A.3.
const RFC8037_PRIVATE: JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';

async function es256Key(kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid },
    publicJwk: { ...(await exportJWK(publicKey)), kid },
  };
}

describe('generateSigningKey', () => {
  it('makes an Ed25519 key whose kid is its RFC 7638 thumbprint', async () => {
    const k = await generateSigningKey();
    expect(k.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(k.privateJwk.d).toEqual(expect.any(String));
    expect(k.publicJwk.d).toBeUndefined();
    expect(k.kid).toBe(
      await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: k.publicJwk.x }),
    );
    expect(k.publicJwk.kid).toBe(k.kid);
    expect(k.privateJwk.kid).toBe(k.kid);
    expect((await generateSigningKey()).kid).not.toBe(k.kid);
  });

  it('takes an explicit kid', async () => {
    const k = await generateSigningKey('agent-1#2026');
    expect([k.kid, k.publicJwk.kid, k.privateJwk.kid]).toEqual(Array(3).fill('agent-1#2026'));
  });
});

describe('jwkThumbprint / publicJwkOf', () => {
  it('matches RFC 8037 A.3 and ignores private members', async () => {
    expect(await jwkThumbprint(RFC8037_PRIVATE)).toBe(RFC8037_THUMBPRINT);
    expect(await jwkThumbprint(publicJwkOf(RFC8037_PRIVATE))).toBe(RFC8037_THUMBPRINT);
    expect(publicJwkOf({ ...RFC8037_PRIVATE, key_ops: ['sign'], ext: true })).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: RFC8037_PRIVATE.x,
    });
  });
});

describe('signJws / verifyJws', () => {
  it('round-trips with header { alg: EdDSA, kid } and a canonical JSON payload', async () => {
    const k = await generateSigningKey();
    const payload = { seq: 42, agent: '86.R03.E00042/000137#a1', events: [{ b: 1, a: '2' }] };
    const jws = await signJws(payload, k.privateJwk);
    expect(jws.split('.')).toHaveLength(3);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'EdDSA', kid: k.kid });
    expect(Buffer.from(jws.split('.')[1] as string, 'base64url').toString()).toBe(
      canonicalJson(payload),
    );
    await expect(verifyJws(jws, [k.publicJwk])).resolves.toEqual({ payload, kid: k.kid });
    await expect(verifyJws(jws, { keys: [k.publicJwk] })).resolves.toEqual({ payload, kid: k.kid });
  });

  it('is deterministic for the same payload whatever the key order', async () => {
    const k = await generateSigningKey();
    expect(await signJws({ a: 1, b: 2 }, k.privateJwk)).toBe(
      await signJws({ b: 2, a: 1 }, k.privateJwk),
    );
  });

  it('uses the thumbprint as kid for a key without one', async () => {
    const jws = await signJws({ hello: 'world' }, RFC8037_PRIVATE);
    expect(decodeProtectedHeader(jws).kid).toBe(RFC8037_THUMBPRINT);
    const { x, kty, crv } = RFC8037_PRIVATE;
    await expect(verifyJws(jws, [{ kty, crv, x }])).resolves.toEqual({
      payload: { hello: 'world' },
      kid: RFC8037_THUMBPRINT,
    });
  });

  it('selects the key by kid among several, and accepts private JWKs in the set', async () => {
    const [a, b, c] = await Promise.all([
      generateSigningKey('a'),
      generateSigningKey('b'),
      generateSigningKey('c'),
    ]);
    const jws = await signJws({ n: 1 }, b.privateJwk);
    const result = await verifyJws<{ n: number }>(jws, [a.publicJwk, c.privateJwk, b.privateJwk]);
    expect(result).toEqual({ payload: { n: 1 }, kid: 'b' });
    expect(result.payload.n).toBe(1);
  });

  it('tries every fitting key when the header has no kid', async () => {
    const [a, b] = await Promise.all([generateSigningKey('a'), generateSigningKey('b')]);
    const key = await importJWK(
      { ...b.privateJwk, kid: undefined, alg: undefined, use: undefined },
      'EdDSA',
    );
    const jws = await new CompactSign(new TextEncoder().encode('{"x":1}'))
      .setProtectedHeader({ alg: 'EdDSA' })
      .sign(key);
    await expect(verifyJws(jws, [a.publicJwk, b.publicJwk])).resolves.toEqual({
      payload: { x: 1 },
      kid: 'b',
    });
  });

  it('verifies ES256 (P-256) signatures', async () => {
    const assessor = await es256Key('assessor-1');
    const jws = await signJws({ score: '0.97' }, assessor.privateJwk);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', kid: 'assessor-1' });
    const agent = await generateSigningKey('agent');
    await expect(verifyJws(jws, [agent.publicJwk, assessor.publicJwk])).resolves.toEqual({
      payload: { score: '0.97' },
      kid: 'assessor-1',
    });
  });

  it('accepts the fully-specified Ed25519 algorithm name (RFC 9864)', async () => {
    const k = await generateSigningKey('k');
    const key = await importJWK(k.privateJwk, 'Ed25519');
    const jws = await new CompactSign(new TextEncoder().encode('{"x":1}'))
      .setProtectedHeader({ alg: 'Ed25519', kid: 'k' })
      .sign(key);
    await expect(verifyJws(jws, [{ ...k.publicJwk, alg: undefined }])).resolves.toEqual({
      payload: { x: 1 },
      kid: 'k',
    });
  });

  describe('rejects with bad_signature', () => {
    it('a tampered payload, header or signature', async () => {
      const k = await generateSigningKey();
      const jws = await signJws({ amount: '1.00' }, k.privateJwk);
      const [h, p, s] = jws.split('.') as [string, string, string];
      const tampered = [
        `${h}.${b64('{"amount":"9.00"}')}.${s}`,
        `${b64(JSON.stringify({ alg: 'EdDSA', kid: k.kid, x: 1 }))}.${p}.${s}`,
        `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}`,
        `${h}.${p}.`,
        `${h}.${p}`,
        `${h}..${s}`,
        '',
        'a.b.c',
      ];
      for (const t of tampered) {
        expect(await codeOf(verifyJws(t, [k.publicJwk]))).toBe('bad_signature');
      }
    });

    it('a signature by another key, or an unknown kid', async () => {
      const [a, b] = await Promise.all([generateSigningKey('a'), generateSigningKey('b')]);
      const jws = await signJws({ x: 1 }, a.privateJwk);
      expect(await codeOf(verifyJws(jws, [b.publicJwk]))).toBe('bad_signature');
      expect(await codeOf(verifyJws(jws, [{ ...b.publicJwk, kid: 'a' }]))).toBe('bad_signature');
      expect(await codeOf(verifyJws(jws, []))).toBe('bad_signature');
      expect(await codeOf(verifyJws(jws, { keys: [] }))).toBe('bad_signature');
      expect(await codeOf(verifyJws(jws, { keys: 'x' } as never))).toBe('bad_signature');
      expect(await codeOf(verifyJws(jws, null as never))).toBe('bad_signature');
      expect(await codeOf(verifyJws(jws, [null, 'x', a.publicJwk] as never))).toBeUndefined();
    });

    it('unsecured and symmetric JWS, and keys for other uses or algorithms', async () => {
      const k = await generateSigningKey('k');
      const none = `${b64('{"alg":"none","kid":"k"}')}.${b64('{"x":1}')}.`;
      expect(await codeOf(verifyJws(none, [k.publicJwk]))).toBe('bad_signature');
      const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
      const hs = await new CompactSign(new TextEncoder().encode('{"x":1}'))
        .setProtectedHeader({ alg: 'HS256', kid: 'k' })
        .sign(secret);
      expect(
        await codeOf(
          verifyJws(hs, [{ kty: 'oct', k: b64('0123456789abcdef0123456789abcdef'), kid: 'k' }]),
        ),
      ).toBe('bad_signature');
      const jws = await signJws({ x: 1 }, k.privateJwk);
      expect(await codeOf(verifyJws(jws, [{ ...k.publicJwk, use: 'enc' }]))).toBe('bad_signature');
      expect(await codeOf(verifyJws(jws, [{ ...k.publicJwk, alg: 'ES256' }]))).toBe(
        'bad_signature',
      );
    });

    it('an ES256 header on an Ed25519 key set', async () => {
      const assessor = await es256Key('k');
      const jws = await signJws({ x: 1 }, assessor.privateJwk);
      const agent = await generateSigningKey('k');
      expect(await codeOf(verifyJws(jws, [agent.publicJwk]))).toBe('bad_signature');
    });

    it('a signed payload that is not JSON', async () => {
      const k = await generateSigningKey('k');
      const key = await importJWK(k.privateJwk, 'EdDSA');
      const jws = await new CompactSign(new TextEncoder().encode('not json'))
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k' })
        .sign(key);
      expect(await codeOf(verifyJws(jws, [k.publicJwk]))).toBe('bad_signature');
    });
  });

  it('refuses to sign with a public or unsupported key', async () => {
    const k = await generateSigningKey();
    expect(await codeOf(signJws({ x: 1 }, k.publicJwk))).toBe('invalid_key');
    expect(await codeOf(signJws({ x: 1 }, { kty: 'oct', k: 'AAAA', d: 'x' } as JWK))).toBe(
      'invalid_key',
    );
    expect(await codeOf(signJws({ x: 1 }, { ...k.privateJwk, d: 'AAAA' }))).toBe('invalid_key');
  });
});
