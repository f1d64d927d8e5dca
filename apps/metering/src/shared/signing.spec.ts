import { generateSigningKey, verifyJws } from '@suanli/crypto';
import { signBatch, verifyBatch, verifyEd25519 } from './signing.js';

describe('verifyBatch', () => {
  it('verifies the usual batch on the fast path, with the payload verifyJws gives', async () => {
    const key = await generateSigningKey();
    const payload = { agent: 'a#1', seq: 3, events: [{ id: 'x', n: '0.5', s: '算力' }] };
    const jws = await signBatch(payload, key.privateJwk);
    expect(verifyEd25519(jws, [key.publicJwk])).toEqual({ payload });
    expect(await verifyBatch(jws, [key.publicJwk])).toEqual(
      (await verifyJws(jws, [key.publicJwk])).payload,
    );
  });

  it('leaves anything else to verifyJws, which rejects what does not verify', async () => {
    const key = await generateSigningKey();
    const other = await generateSigningKey();
    const jws = await signBatch({ seq: 1 }, key.privateJwk);
    const [h, p, s] = jws.split('.');
    const tampered = `${h}.${Buffer.from('{"seq":2}').toString('base64url')}.${s}`;
    expect(verifyEd25519(tampered, [key.publicJwk])).toBeUndefined();
    await expect(verifyBatch(tampered, [key.publicJwk])).rejects.toThrow();
    // The wrong key (other kid), a key for another use, a non-base64url payload.
    expect(verifyEd25519(jws, [other.publicJwk])).toBeUndefined();
    await expect(verifyBatch(jws, [other.publicJwk])).rejects.toThrow();
    expect(verifyEd25519(jws, [{ ...key.publicJwk, use: 'enc' }])).toBeUndefined();
    await expect(verifyBatch(jws, [{ ...key.publicJwk, use: 'enc' }])).rejects.toThrow();
    expect(verifyEd25519(`${h}.${p}=.${s}`, [key.publicJwk])).toBeUndefined();
    // Same key under two entries: ambiguous for the fast path, fine for jose.
    expect(verifyEd25519(jws, [key.publicJwk, key.publicJwk])).toBeUndefined();
    expect(await verifyBatch(jws, [key.publicJwk, key.publicJwk])).toEqual({ seq: 1 });
  });
});
