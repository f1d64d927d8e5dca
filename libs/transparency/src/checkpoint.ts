import { CryptoError, signJws, verifyJws, type JSONWebKeySet, type JWK } from '@suanli/crypto';
import { TransparencyError } from './errors.js';
import { fromHex } from './merkle.js';

/** The signed statement of a log's state: its size and root hash at a time. */
export type Checkpoint = {
  /** Always `suanli-checkpoint/v1`: keeps checkpoints apart from other JWS the key signs. */
  type: typeof CHECKPOINT_TYPE;
  /** Which log: the exchange's platform code and log name, e.g. `86.N00/settlement`. */
  origin: string;
  treeSize: number;
  /** MTH of the first `treeSize` leaves, lower-case hex. */
  rootHash: string;
  /** When it was signed, ISO 8601 UTC. */
  timestamp: string;
};

export const CHECKPOINT_TYPE = 'suanli-checkpoint/v1';

/** Signs a checkpoint as a compact JWS (EdDSA) under `privateJwk`. */
export async function signCheckpoint(
  c: Omit<Checkpoint, 'type'>,
  privateJwk: JWK,
): Promise<string> {
  return signJws({ type: CHECKPOINT_TYPE, ...c }, privateJwk);
}

export type CheckpointCheck = {
  /** Reject a checkpoint signed longer ago than this, relative to `now`. */
  maxAgeSeconds?: number;
  now?: Date;
  /** Reject a checkpoint of another log. */
  origin?: string;
};

function parsePayload(p: unknown): Checkpoint {
  const c = p as Partial<Checkpoint> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    c.type !== CHECKPOINT_TYPE ||
    typeof c.origin !== 'string' ||
    typeof c.treeSize !== 'number' ||
    !Number.isSafeInteger(c.treeSize) ||
    c.treeSize < 0 ||
    typeof c.rootHash !== 'string' ||
    typeof c.timestamp !== 'string' ||
    Number.isNaN(Date.parse(c.timestamp))
  ) {
    throw new TransparencyError('bad_checkpoint', 'the signed payload is not a checkpoint');
  }
  fromHex(c.rootHash, 'rootHash');
  return {
    type: c.type,
    origin: c.origin,
    treeSize: c.treeSize,
    rootHash: c.rootHash,
    timestamp: c.timestamp,
  };
}

/**
 * Verifies a checkpoint JWS against a JWKS (the platform's `/.well-known/jwks.json`, which keeps
 * retired keys' public halves after a rotation) and returns it with the signing `kid`. Throws
 * `bad_checkpoint` for a bad signature, an unknown key or a malformed payload, and
 * `stale_checkpoint` when it is older than `maxAgeSeconds` (or dated in the future).
 */
export async function verifyCheckpoint(
  jws: string,
  jwks: JWK[] | JSONWebKeySet,
  check: CheckpointCheck = {},
): Promise<Checkpoint & { kid: string }> {
  let verified: { payload: unknown; kid: string };
  try {
    verified = await verifyJws(jws, jwks);
  } catch (e) {
    if (e instanceof CryptoError) {
      throw new TransparencyError('bad_checkpoint', `checkpoint signature: ${e.message}`, {
        cause: e,
      });
    }
    throw e;
  }
  const c = parsePayload(verified.payload);
  if (check.origin !== undefined && c.origin !== check.origin) {
    throw new TransparencyError('bad_checkpoint', `checkpoint of ${c.origin}, not ${check.origin}`);
  }
  if (check.maxAgeSeconds !== undefined) {
    const now = (check.now ?? new Date()).getTime();
    const age = (now - Date.parse(c.timestamp)) / 1000;
    if (age > check.maxAgeSeconds) {
      throw new TransparencyError(
        'stale_checkpoint',
        `checkpoint of ${c.timestamp} is ${Math.round(age)} s old (max ${check.maxAgeSeconds} s)`,
      );
    }
    if (age < -300) {
      throw new TransparencyError('stale_checkpoint', `checkpoint dated in the future`);
    }
  }
  return { ...c, kid: verified.kid };
}
