import { createHash } from 'node:crypto';
import { canonicalJson } from '@suanli/crypto';
import { TransparencyError } from './errors.js';

/** A SHA-256 hash as 32 bytes. */
export type Hash = Uint8Array;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 §2.1.1: the hash of the empty tree, SHA-256 of nothing. */
export const EMPTY_ROOT: Hash = new Uint8Array(createHash('sha256').digest());

/** RFC 9162 leaf hash: SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array | string): Hash {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(data).digest());
}

/** RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return new Uint8Array(
    createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest(),
  );
}

/** The leaf bytes of a settlement record: its RFC 8785 canonical JSON, as UTF-8. */
export function leafBytes(record: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(record));
}

/** Leaf hash of a record: SHA-256(0x00 ‖ canonical JSON). */
export function recordLeafHash(record: unknown): Hash {
  return leafHash(leafBytes(record));
}

export function toHex(h: Uint8Array): string {
  return Buffer.from(h).toString('hex');
}

export function fromHex(hex: string, what = 'hash'): Hash {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new TransparencyError('invalid_argument', `${what} must be 64 lower-case hex digits`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TransparencyError('invalid_argument', `${what} must be a non-negative integer`);
  }
}

/** The largest power of two strictly smaller than `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A complete (perfect) subtree: the 2^level leaves starting at index × 2^level. */
export type PerfectNode = { level: number; index: number };

/**
 * The perfect subtrees whose hashes determine MTH(D[start:end]), left to right, for a range the
 * RFC 9162 recursion produces (start a multiple of the range's split point); every range a proof
 * needs is of that kind. Throws for a range that is not.
 */
export function perfectNodesOf(start: number, end: number): PerfectNode[] {
  checkSize(start, 'start');
  checkSize(end, 'end');
  const out: PerfectNode[] = [];
  let a = start;
  while (a < end) {
    const n = end - a;
    let size = 1;
    while (size * 2 <= n) size *= 2;
    if (a % size !== 0) {
      throw new TransparencyError('invalid_argument', `range [${start}, ${end}) is not aligned`);
    }
    out.push({ level: Math.log2(size), index: a / size });
    a += size;
  }
  return out;
}

/** Folds the perfect subtree hashes of a range (left to right) into MTH of that range. */
export function foldRange(hashes: readonly Hash[]): Hash {
  if (hashes.length === 0) return EMPTY_ROOT;
  let r = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) r = nodeHash(hashes[i], r);
  return r;
}

/** A range [start, end) of leaves whose MTH is one element of a proof. */
export type Range = { start: number; end: number };

function pathRanges(m: number, start: number, end: number, out: Range[]): void {
  const n = end - start;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    pathRanges(m, start, start + k, out);
    out.push({ start: start + k, end });
  } else {
    pathRanges(m - k, start + k, end, out);
    out.push({ start, end: start + k });
  }
}

/** RFC 9162 §2.1.3.1: the ranges whose hashes form the inclusion proof of leaf `index`. */
export function inclusionProofRanges(index: number, treeSize: number): Range[] {
  checkSize(index, 'index');
  checkSize(treeSize, 'tree size');
  if (index >= treeSize) {
    throw new TransparencyError(
      'invalid_argument',
      `leaf ${index} is not in a tree of ${treeSize}`,
    );
  }
  const out: Range[] = [];
  pathRanges(index, 0, treeSize, out);
  return out;
}

function subproofRanges(m: number, start: number, end: number, b: boolean, out: Range[]): void {
  const n = end - start;
  if (m === n) {
    if (!b) out.push({ start, end });
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproofRanges(m, start, start + k, b, out);
    out.push({ start: start + k, end });
  } else {
    subproofRanges(m - k, start + k, end, false, out);
    out.push({ start, end: start + k });
  }
}

/** RFC 9162 §2.1.4.1: the ranges whose hashes form the consistency proof from m to n leaves. */
export function consistencyProofRanges(m: number, n: number): Range[] {
  checkSize(m, 'first size');
  checkSize(n, 'second size');
  if (m > n) throw new TransparencyError('invalid_argument', `first size ${m} > second size ${n}`);
  if (m === 0 || m === n) return [];
  const out: Range[] = [];
  subproofRanges(m, 0, n, true, out);
  return out;
}

/** Reads the hash of a perfect subtree (level, index) of the tree. */
export type NodeReader = (node: PerfectNode) => Hash;

/** MTH(D[start:end]) from a reader of perfect subtrees. */
export function rangeHash(range: Range, read: NodeReader): Hash {
  return foldRange(perfectNodesOf(range.start, range.end).map(read));
}

/** Every perfect node the given ranges need (deduplicated), to fetch them in one go. */
export function nodesFor(ranges: readonly Range[]): PerfectNode[] {
  const seen = new Map<string, PerfectNode>();
  for (const r of ranges) {
    for (const n of perfectNodesOf(r.start, r.end)) seen.set(`${n.level}:${n.index}`, n);
  }
  return [...seen.values()];
}

/** RFC 9162 MTH over leaf hashes (the reference definition; O(n)). */
export function rootOf(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0];
  const k = splitPoint(leaves.length);
  return nodeHash(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}

const LSB = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: the root an inclusion proof yields for `leaf` at `index` of `treeSize`. */
export function rootFromInclusionProof(
  index: number,
  treeSize: number,
  leaf: Hash,
  proof: readonly Hash[],
): Hash {
  checkSize(index, 'index');
  checkSize(treeSize, 'tree size');
  if (index >= treeSize) throw new TransparencyError('bad_proof', 'leaf index beyond tree size');
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new TransparencyError('bad_proof', 'inclusion proof is too long');
    if (LSB(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!LSB(fn)) {
        while (!LSB(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new TransparencyError('bad_proof', 'inclusion proof is too short');
  return r;
}

/** Throws `bad_proof` unless `proof` shows `leaf` at `index` in the tree with `root`. */
export function verifyInclusion(
  index: number,
  treeSize: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): void {
  const r = rootFromInclusionProof(index, treeSize, leaf, proof);
  if (!equalHashes(r, root)) {
    throw new TransparencyError('bad_proof', 'inclusion proof does not lead to the root');
  }
}

/**
 * RFC 9162 §2.1.4.2: throws `inconsistent` unless `proof` shows that the tree of `first` leaves
 * with root `firstRoot` is a prefix of the tree of `second` leaves with root `secondRoot`.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Hash,
  secondRoot: Hash,
  proof: readonly Hash[],
): void {
  checkSize(first, 'first size');
  checkSize(second, 'second size');
  const fail = (why: string): never => {
    throw new TransparencyError('inconsistent', `consistency proof ${first} → ${second}: ${why}`);
  };
  if (first > second) fail('the first tree is larger');
  if (first === second) {
    if (proof.length !== 0) fail('a proof between equal sizes must be empty');
    if (!equalHashes(firstRoot, secondRoot)) fail('equal sizes with different roots');
    return;
  }
  if (first === 0) {
    if (proof.length !== 0) fail('a proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) fail('empty proof');
  const path = [...proof];
  // A first tree of 2^k leaves is itself a node of the second tree: its root starts the path.
  if (Number.isInteger(Math.log2(first))) path.unshift(firstRoot);
  let fn = first - 1;
  let sn = second - 1;
  while (LSB(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) fail('proof is too long');
    if (LSB(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!LSB(fn)) {
        while (!LSB(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail('proof is too short');
  if (!equalHashes(fr, firstRoot)) fail('does not lead to the first root');
  if (!equalHashes(sr, secondRoot)) fail('does not lead to the second root');
}

/**
 * The right edge of an append-only tree: one perfect subtree per set bit of its size (the
 * "compact range" of [0, size)). Appending a leaf returns the perfect nodes it completes, so a
 * store can keep every perfect node and serve any proof from O(log n) reads.
 */
export class MerkleFrontier {
  private readonly stack: { level: number; hash: Hash }[];
  private n: number;

  constructor(size = 0, frontier: readonly Hash[] = []) {
    checkSize(size, 'size');
    const levels: number[] = [];
    for (let level = 52; level >= 0; level--)
      if (Math.floor(size / 2 ** level) % 2 === 1) levels.push(level);
    if (levels.length !== frontier.length) {
      throw new TransparencyError(
        'invalid_argument',
        `a tree of ${size} has ${levels.length} frontier nodes`,
      );
    }
    this.stack = levels.map((level, i) => ({ level, hash: frontier[i] }));
    this.n = size;
  }

  /** The perfect nodes making up [0, size), left to right (what the constructor takes). */
  static nodesOf(size: number): PerfectNode[] {
    return size === 0 ? [] : perfectNodesOf(0, size);
  }

  get size(): number {
    return this.n;
  }

  /** Appends a leaf hash; returns every perfect node (level ≥ 0) it completes, leaf first. */
  append(leaf: Hash): (PerfectNode & { hash: Hash })[] {
    const index = this.n;
    const made: (PerfectNode & { hash: Hash })[] = [{ level: 0, index, hash: leaf }];
    let cur = { level: 0, hash: leaf };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].level === cur.level) {
      const left = this.stack.pop() as { level: number; hash: Hash };
      cur = { level: cur.level + 1, hash: nodeHash(left.hash, cur.hash) };
      made.push({ level: cur.level, index: Math.floor(index / 2 ** cur.level), hash: cur.hash });
    }
    this.stack.push(cur);
    this.n += 1;
    return made;
  }

  root(): Hash {
    return foldRange(this.stack.map((s) => s.hash));
  }

  frontier(): Hash[] {
    return this.stack.map((s) => s.hash);
  }
}
