import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson, generateSigningKey } from '@suanli/crypto';
import {
  inclusionProofRanges,
  rangeHash,
  recordLeafHash,
  rootOf,
  signCheckpoint,
  toHex,
} from '@suanli/transparency';
import { canonical, ProofError, verifyProof, type ProofBundle } from './proof-verify';

const records = Array.from({ length: 9 }, (_, i) => ({
  type: 'invoice',
  v: 1,
  id: `inv-${i}`,
  lines: [{ unit: 'slot_h', amount: `${i}.00`, note: 'é "q" \u0001' }],
  total: `${i}.00`,
}));
const leaves = records.map((r) => recordLeafHash(r));
const read = ({ level, index }: { level: number; index: number }) =>
  rootOf(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level));

describe('storefront proof verifier', () => {
  it('canonicalizes like RFC 8785 (@suanli/crypto) for the JSON records hold', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(fc.property(json, (v) => expect(canonical(v)).toBe(canonicalJson(v))));
  });

  it('agrees with @suanli/transparency: accepts the real proof, rejects tampering', async () => {
    const key = await generateSigningKey('k1');
    const other = await generateSigningKey('k1');
    const size = 9;
    const sign = (k: typeof key) =>
      signCheckpoint(
        {
          origin: 'x/settlement',
          treeSize: size,
          rootHash: toHex(rootOf(leaves)),
          timestamp: '2026-11-28T10:00:00Z',
        },
        k.privateJwk,
      );
    const b: ProofBundle = {
      record: records[6],
      leafIndex: 6,
      leafHash: toHex(leaves[6]),
      inclusionProof: {
        treeSize: size,
        hashes: inclusionProofRanges(6, size).map((r) => toHex(rangeHash(r, read))),
      },
      checkpoint: await sign(key),
    };
    const jwks = { keys: [key.publicJwk] };
    expect(verifyProof(b, jwks)).toMatchObject({ treeSize: 9, kid: 'k1' });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof ProofError ? e.code : String(e);
      }
      return 'accepted';
    };
    expect(code(() => verifyProof({ ...b, record: { ...records[6], total: '1.00' } }, jwks))).toBe(
      'bad_record',
    );
    expect(code(() => verifyProof({ ...b, leafIndex: 5 }, jwks))).toBe('bad_proof');
    expect(code(() => verifyProof({ ...b, checkpoint: '' }, jwks))).toBe('bad_checkpoint');
    const forged = { ...b, checkpoint: await sign(other) };
    expect(code(() => verifyProof(forged, jwks))).toBe('bad_checkpoint');
  });
});
