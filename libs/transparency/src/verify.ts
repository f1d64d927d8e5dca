import type { JSONWebKeySet, JWK } from '@suanli/crypto';
import { verifyCheckpoint, type Checkpoint, type CheckpointCheck } from './checkpoint.js';
import { TransparencyError } from './errors.js';
import {
  equalHashes,
  fromHex,
  recordLeafHash,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

/** A record as the log holds it, with what proves it: what each invoice carries. */
export type RecordBundle = {
  /** The leaf's content (pseudonymized settlement record); hashed as RFC 8785 JSON. */
  record: unknown;
  leafIndex: number;
  /** SHA-256(0x00 ‖ canonical JSON of `record`), hex. */
  leafHash: string;
  inclusionProof: { treeSize: number; hashes: string[] };
  /** Compact JWS of the checkpoint the proof leads to. */
  checkpoint: string;
};

export type ConsistencyBundle = {
  /** The older checkpoint (JWS). */
  first: string;
  /** The newer checkpoint (JWS). */
  second: string;
  /** Consistency proof between their tree sizes, hex hashes. */
  hashes: string[];
};

function hashes(list: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(list)) throw new TransparencyError('bad_proof', `${what} must be a list`);
  try {
    return list.map((h, i) => fromHex(h as string, `${what}[${i}]`));
  } catch (e) {
    throw new TransparencyError('bad_proof', (e as Error).message, { cause: e });
  }
}

/**
 * Checks a record offline: its leaf hash is the hash of its canonical JSON, the inclusion proof
 * leads from it to the checkpoint's root at the checkpoint's size, and the checkpoint carries a
 * valid signature by a key of `jwks` (and is fresh enough, if `maxAgeSeconds` is given).
 * Returns the verified checkpoint; throws a `TransparencyError` naming what failed.
 */
export async function verifyRecord(
  bundle: RecordBundle,
  jwks: JWK[] | JSONWebKeySet,
  check: CheckpointCheck = {},
): Promise<Checkpoint & { kid: string }> {
  const cp = await verifyCheckpoint(bundle.checkpoint, jwks, check);
  const leaf = recordLeafHash(bundle.record);
  if (typeof bundle.leafHash !== 'string' || !equalHashes(leaf, fromHex(bundle.leafHash))) {
    throw new TransparencyError(
      'bad_record',
      `the record hashes to ${toHex(leaf)}, not the leaf hash ${String(bundle.leafHash)}`,
    );
  }
  const proof = bundle.inclusionProof;
  if (typeof proof !== 'object' || proof === null || proof.treeSize !== cp.treeSize) {
    throw new TransparencyError(
      'bad_proof',
      `the proof is for a tree of ${String(proof?.treeSize)}, the checkpoint for ${cp.treeSize}`,
    );
  }
  if (!Number.isSafeInteger(bundle.leafIndex) || bundle.leafIndex < 0) {
    throw new TransparencyError('bad_proof', 'leafIndex must be a non-negative integer');
  }
  verifyInclusion(
    bundle.leafIndex,
    cp.treeSize,
    leaf,
    hashes(proof.hashes, 'inclusionProof.hashes'),
    fromHex(cp.rootHash),
  );
  return cp;
}

/**
 * Checks two checkpoints offline: both signed by a key of `jwks`, of the same log, the second
 * no smaller and no older than the first, and the proof shows the first tree a prefix of the
 * second. Throws `inconsistent` (or `bad_checkpoint`) otherwise.
 */
export async function verifyCheckpointConsistency(
  bundle: ConsistencyBundle,
  jwks: JWK[] | JSONWebKeySet,
  check: CheckpointCheck = {},
): Promise<{ first: Checkpoint; second: Checkpoint }> {
  const first = await verifyCheckpoint(bundle.first, jwks, { origin: check.origin });
  const second = await verifyCheckpoint(bundle.second, jwks, check);
  if (first.origin !== second.origin) {
    throw new TransparencyError(
      'inconsistent',
      `checkpoints of ${first.origin} and ${second.origin}`,
    );
  }
  if (Date.parse(second.timestamp) < Date.parse(first.timestamp)) {
    throw new TransparencyError('inconsistent', 'the second checkpoint is older than the first');
  }
  verifyConsistency(
    first.treeSize,
    second.treeSize,
    fromHex(first.rootHash),
    fromHex(second.rootHash),
    hashes(bundle.hashes, 'hashes'),
  );
  return { first, second };
}
