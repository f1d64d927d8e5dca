import { describe, expect, it } from '@jest/globals';
import { generateSigningKey } from '@suanli/crypto';
import {
  consistencyProofRanges,
  inclusionProofRanges,
  rangeHash,
  recordLeafHash,
  rootOf,
  signCheckpoint,
  toHex,
  TransparencyError,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyRecord,
  type Hash,
  type NodeReader,
  type RecordBundle,
} from './index.js';

const records = Array.from({ length: 11 }, (_, i) => ({
  type: 'debit_note',
  id: `dn-${i}`,
  gross: `${i}.00`,
  currency: 'CNY',
}));
const hashes: Hash[] = records.map((r) => recordLeafHash(r));
const reader: NodeReader = ({ level, index }) =>
  rootOf(hashes.slice(index * 2 ** level, (index + 1) * 2 ** level));
const ORIGIN = '86.N00/settlement';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof TransparencyError ? e.code : `not a TransparencyError: ${String(e)}`;
  }
  return undefined;
}

describe('checkpoints and the offline verifier', () => {
  it('verifies a record, its proof and its checkpoint; rejects every kind of forgery', async () => {
    const platform = await generateSigningKey('platform-2026-1');
    const rotated = await generateSigningKey('platform-2026-2');
    const attacker = await generateSigningKey('platform-2026-1');
    const jwks = { keys: [platform.publicJwk, rotated.publicJwk] };
    const size = 9;
    const checkpoint = async (key: typeof platform, n = size, timestamp = '2026-11-28T10:00:00Z') =>
      signCheckpoint(
        { origin: ORIGIN, treeSize: n, rootHash: toHex(rootOf(hashes.slice(0, n))), timestamp },
        key.privateJwk,
      );
    const bundleFor = async (i: number, key = platform): Promise<RecordBundle> => ({
      record: records[i],
      leafIndex: i,
      leafHash: toHex(hashes[i]),
      inclusionProof: {
        treeSize: size,
        hashes: inclusionProofRanges(i, size).map((r) => toHex(rangeHash(r, reader))),
      },
      checkpoint: await checkpoint(key),
    });
    const b = await bundleFor(4);
    const now = new Date('2026-11-28T10:30:00Z');
    await expect(verifyRecord(b, jwks, { now, maxAgeSeconds: 3600 })).resolves.toMatchObject({
      treeSize: size,
      kid: 'platform-2026-1',
    });
    // After a rotation, a checkpoint by the new key verifies against the same JWKS.
    await expect(verifyRecord(await bundleFor(4, rotated), jwks)).resolves.toMatchObject({
      kid: 'platform-2026-2',
    });

    // Tampered record: the amount changed, leaf hash kept or recomputed.
    const tampered = { ...b, record: { ...records[4], gross: '400.00' } };
    expect(await codeOf(verifyRecord(tampered, jwks))).toBe('bad_record');
    const rehashed = { ...tampered, leafHash: toHex(recordLeafHash(tampered.record)) };
    expect(await codeOf(verifyRecord(rehashed, jwks))).toBe('bad_proof');
    // Wrong proof: another leaf's proof, a changed hash, another index, another size.
    const other = await bundleFor(5);
    expect(await codeOf(verifyRecord({ ...b, inclusionProof: other.inclusionProof }, jwks))).toBe(
      'bad_proof',
    );
    const flipped = [...b.inclusionProof.hashes];
    flipped[0] = flipped[0].replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(
      await codeOf(
        verifyRecord({ ...b, inclusionProof: { treeSize: size, hashes: flipped } }, jwks),
      ),
    ).toBe('bad_proof');
    expect(await codeOf(verifyRecord({ ...b, leafIndex: 3 }, jwks))).toBe('bad_proof');
    expect(
      await codeOf(
        verifyRecord({ ...b, inclusionProof: { ...b.inclusionProof, treeSize: 10 } }, jwks),
      ),
    ).toBe('bad_proof');
    // Forged checkpoint: signed by another key carrying the platform's kid, or unknown key.
    expect(await codeOf(verifyRecord({ ...b, checkpoint: await checkpoint(attacker) }, jwks))).toBe(
      'bad_checkpoint',
    );
    expect(await codeOf(verifyRecord(b, { keys: [rotated.publicJwk] }))).toBe('bad_checkpoint');
    // A checkpoint whose payload was edited (signature no longer matches).
    const [h, , s] = b.checkpoint.split('.');
    const edited = Buffer.from(
      JSON.stringify({
        type: 'suanli-checkpoint/v1',
        origin: ORIGIN,
        treeSize: 10,
        rootHash: toHex(rootOf(hashes.slice(0, 10))),
        timestamp: '2026-11-28T10:00:00Z',
      }),
    ).toString('base64url');
    expect(await codeOf(verifyRecord({ ...b, checkpoint: `${h}.${edited}.${s}` }, jwks))).toBe(
      'bad_checkpoint',
    );
    // Stale checkpoint: older than the verifier accepts.
    expect(
      await codeOf(
        verifyRecord(b, jwks, { now: new Date('2026-11-29T10:00:01Z'), maxAgeSeconds: 86_400 }),
      ),
    ).toBe('stale_checkpoint');
    expect(await codeOf(verifyCheckpoint(b.checkpoint, jwks, { origin: 'other/log' }))).toBe(
      'bad_checkpoint',
    );
  });

  it('checks two checkpoints for consistency; rejects a forked or reordered history', async () => {
    const platform = await generateSigningKey('k1');
    const jwks = { keys: [platform.publicJwk] };
    const sign = (n: number, leaves: Hash[], timestamp: string) =>
      signCheckpoint(
        { origin: ORIGIN, treeSize: n, rootHash: toHex(rootOf(leaves.slice(0, n))), timestamp },
        platform.privateJwk,
      );
    const proof = (m: number, n: number, leaves: Hash[]) =>
      consistencyProofRanges(m, n).map((r) =>
        toHex(
          rangeHash(r, ({ level, index }) =>
            rootOf(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)),
          ),
        ),
      );
    const first = await sign(6, hashes, '2026-11-28T10:00:00Z');
    const second = await sign(11, hashes, '2026-11-28T11:00:00Z');
    await expect(
      verifyCheckpointConsistency({ first, second, hashes: proof(6, 11, hashes) }, jwks),
    ).resolves.toMatchObject({ first: { treeSize: 6 }, second: { treeSize: 11 } });
    // A fork: the newer tree rewrote leaf 2.
    const forked = [...hashes];
    forked[2] = recordLeafHash({ type: 'debit_note', id: 'dn-2', gross: '0.01' });
    const forkedSecond = await sign(11, forked, '2026-11-28T11:00:00Z');
    for (const hs of [proof(6, 11, forked), proof(6, 11, hashes)]) {
      expect(
        await codeOf(
          verifyCheckpointConsistency({ first, second: forkedSecond, hashes: hs }, jwks),
        ),
      ).toBe('inconsistent');
    }
    // Reordered: the "newer" checkpoint is smaller or older.
    expect(
      await codeOf(
        verifyCheckpointConsistency(
          { first: second, second: first, hashes: proof(6, 11, hashes) },
          jwks,
        ),
      ),
    ).toBe('inconsistent');
    const backdated = await sign(11, hashes, '2026-11-28T09:00:00Z');
    expect(
      await codeOf(
        verifyCheckpointConsistency(
          { first, second: backdated, hashes: proof(6, 11, hashes) },
          jwks,
        ),
      ),
    ).toBe('inconsistent');
  });
});
