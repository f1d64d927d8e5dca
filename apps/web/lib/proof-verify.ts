import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';

/** A key of a published JWKS, as far as this verifier reads it (any other members ignored). */
export interface PublishedKey {
  kid?: unknown;
  kty?: unknown;
  crv?: unknown;
  x?: unknown;
}

/**
 * A second, independent verifier of settlement-log proofs for the storefront (Turbopack cannot
 * bundle the NodeNext-style workspace library `@suanli/transparency`; the unit test checks this
 * one against it). RFC 8785 canonical JSON (for the records the log holds: strings, integers,
 * booleans, null, arrays, objects), RFC 9162 leaf hash and inclusion proof, EdDSA checkpoint.
 */

export type ProofBundle = {
  record: unknown;
  leafIndex: number;
  leafHash: string;
  inclusionProof: { treeSize: number; hashes: string[] };
  checkpoint: string;
};

export type Verified = { treeSize: number; rootHash: string; timestamp: string; kid: string };

export class ProofError extends Error {
  constructor(
    readonly code: 'bad_record' | 'bad_proof' | 'bad_checkpoint',
    message: string,
  ) {
    super(message);
  }
}

export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new ProofError('bad_record', 'number');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x)).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

const sha = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leaf = (data: Buffer) => sha(Buffer.from([0]), data);
const node = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);

function rootFromProof(index: number, size: number, h: Buffer, proof: Buffer[]): Buffer {
  if (!(index >= 0 && index < size)) throw new ProofError('bad_proof', 'index beyond tree size');
  let fn = index;
  let sn = size - 1;
  let r = h;
  for (const p of proof) {
    if (sn === 0) throw new ProofError('bad_proof', 'proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('bad_proof', 'proof too short');
  return r;
}

function checkpointOf(jws: string, keys: readonly PublishedKey[]): Verified {
  const [h, p, s] = jws.split('.');
  if (!h || !p || !s) throw new ProofError('bad_checkpoint', 'not a compact JWS');
  let header: { alg?: string; kid?: string };
  let payload: { type?: string; treeSize?: number; rootHash?: string; timestamp?: string };
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof payload;
  } catch {
    throw new ProofError('bad_checkpoint', 'malformed JWS');
  }
  if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') {
    throw new ProofError('bad_checkpoint', `algorithm ${String(header.alg)} not accepted`);
  }
  const key = keys.find((k) => k.kid === header.kid && k.kty === 'OKP' && k.crv === 'Ed25519');
  if (!key || typeof key.x !== 'string')
    throw new ProofError('bad_checkpoint', `no key ${String(header.kid)}`);
  const ok = verifySignature(
    null,
    Buffer.from(`${h}.${p}`),
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x }, format: 'jwk' }),
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new ProofError('bad_checkpoint', 'signature does not verify');
  if (
    payload.type !== 'suanli-checkpoint/v1' ||
    typeof payload.treeSize !== 'number' ||
    typeof payload.rootHash !== 'string' ||
    typeof payload.timestamp !== 'string'
  ) {
    throw new ProofError('bad_checkpoint', 'not a checkpoint');
  }
  return {
    treeSize: payload.treeSize,
    rootHash: payload.rootHash,
    timestamp: payload.timestamp,
    kid: String(header.kid),
  };
}

/** Throws a `ProofError` unless the record, its proof and the signed checkpoint agree. */
export function verifyProof(b: ProofBundle, jwks: { keys: readonly PublishedKey[] }): Verified {
  const cp = checkpointOf(b.checkpoint, jwks.keys);
  const h = leaf(Buffer.from(canonical(b.record), 'utf8'));
  if (h.toString('hex') !== b.leafHash) {
    throw new ProofError('bad_record', 'the record does not hash to its leaf');
  }
  if (b.inclusionProof.treeSize !== cp.treeSize) {
    throw new ProofError('bad_proof', 'proof and checkpoint are for different tree sizes');
  }
  const proof = b.inclusionProof.hashes.map((x) => Buffer.from(x, 'hex'));
  const root = rootFromProof(b.leafIndex, cp.treeSize, h, proof);
  if (root.toString('hex') !== cp.rootHash) {
    throw new ProofError('bad_proof', 'the proof does not lead to the checkpoint root');
  }
  return cp;
}
