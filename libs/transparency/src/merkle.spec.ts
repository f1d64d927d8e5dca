import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  consistencyProofRanges,
  EMPTY_ROOT,
  inclusionProofRanges,
  leafHash,
  MerkleFrontier,
  nodeHash,
  rangeHash,
  recordLeafHash,
  rootOf,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type NodeReader,
} from './index.js';
import { errorCode } from './testing.js';

const leaves = (n: number): Hash[] => Array.from({ length: n }, (_, i) => leafHash(`leaf ${i}`));

/** A reader of perfect subtrees computed straight from the leaves (the reference MTH). */
const readerOf =
  (ls: Hash[]): NodeReader =>
  ({ level, index }) =>
    rootOf(ls.slice(index * 2 ** level, (index + 1) * 2 ** level));

const inclusion = (ls: Hash[], m: number, n: number) =>
  inclusionProofRanges(m, n).map((r) => rangeHash(r, readerOf(ls)));
const consistency = (ls: Hash[], m: number, n: number) =>
  consistencyProofRanges(m, n).map((r) => rangeHash(r, readerOf(ls)));

const code = errorCode;

describe('RFC 9162 hashing', () => {
  it('hashes leaves with 0x00 and nodes with 0x01, the empty tree as SHA-256("")', () => {
    const sha = (...parts: (number[] | Uint8Array)[]) => {
      const h = createHash('sha256');
      for (const p of parts) h.update(Uint8Array.from(p));
      return h.digest('hex');
    };
    expect(toHex(EMPTY_ROOT)).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(toHex(leafHash(new Uint8Array([1, 2])))).toBe(sha([0], [1, 2]));
    const a = leafHash('a');
    const b = leafHash('b');
    expect(toHex(nodeHash(a, b))).toBe(sha([1], a, b));
    expect(toHex(rootOf([a, b, leafHash('c')]))).toBe(
      toHex(nodeHash(nodeHash(a, b), leafHash('c'))),
    );
  });

  it('hashes a record as its RFC 8785 canonical JSON, whatever the key order', () => {
    expect(toHex(recordLeafHash({ b: '1.00', a: [1, 'x'] }))).toBe(
      toHex(leafHash('{"a":[1,"x"],"b":"1.00"}')),
    );
    expect(recordLeafHash({ x: 1, y: 2 })).toEqual(recordLeafHash({ y: 2, x: 1 }));
  });

  it('keeps the same root incrementally as the reference MTH (frontier, any size)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 130 }), (n) => {
        const ls = leaves(n);
        const f = new MerkleFrontier();
        const stored = new Map<string, Hash>();
        for (const l of ls)
          for (const made of f.append(l)) stored.set(`${made.level}:${made.index}`, made.hash);
        expect(f.size).toBe(n);
        expect(toHex(f.root())).toBe(toHex(rootOf(ls)));
        // Every perfect node the frontier reported is the reference subtree hash.
        const read = readerOf(ls);
        for (const [k, h] of stored) {
          const [level, index] = k.split(':').map(Number);
          expect(toHex(h)).toBe(toHex(read({ level, index })));
        }
        // A frontier restored from its nodes goes on identically.
        const again = new MerkleFrontier(n, f.frontier());
        const extra = leafHash('extra');
        again.append(extra);
        expect(toHex(again.root())).toBe(toHex(rootOf([...ls, extra])));
      }),
      { numRuns: 40 },
    );
  });
});

describe('inclusion proofs', () => {
  it('verify for every leaf of every tree (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        ([n, m]) => {
          const ls = leaves(n);
          const proof = inclusion(ls, m, n);
          expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
          verifyInclusion(m, n, ls[m], proof, rootOf(ls));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects another leaf, another index, a changed or truncated proof, a wrong root', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        fc.nat(),
        ([n, m], pick) => {
          const ls = leaves(n);
          const root = rootOf(ls);
          const proof = inclusion(ls, m, n);
          const other = (m + 1 + (pick % (n - 1))) % n;
          expect(code(() => verifyInclusion(m, n, leafHash('forged'), proof, root))).toBe(
            'bad_proof',
          );
          expect(code(() => verifyInclusion(other, n, ls[m], proof, root))).toBe('bad_proof');
          const changed = proof.map((h, i) => (i === pick % proof.length ? leafHash('x') : h));
          expect(code(() => verifyInclusion(m, n, ls[m], changed, root))).toBe('bad_proof');
          expect(code(() => verifyInclusion(m, n, ls[m], proof.slice(1), root))).toBe('bad_proof');
          expect(code(() => verifyInclusion(m, n, ls[m], [...proof, root], root))).toBe(
            'bad_proof',
          );
          expect(code(() => verifyInclusion(m, n, ls[m], proof, leafHash('root')))).toBe(
            'bad_proof',
          );
          expect(code(() => verifyInclusion(n, n, ls[m], proof, root))).toBe('bad_proof');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('matches the RFC 9162 worked shape: leaf 3 of 7 needs 3 hashes', () => {
    const ls = leaves(7);
    expect(inclusionProofRanges(3, 7)).toEqual([
      { start: 2, end: 3 },
      { start: 0, end: 2 },
      { start: 4, end: 7 },
    ]);
    verifyInclusion(3, 7, ls[3], inclusion(ls, 3, 7), rootOf(ls));
  });
});

describe('consistency proofs', () => {
  it('verify for every pair of sizes m ≤ n (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }).chain((n) => fc.tuple(fc.nat(n), fc.constant(n))),
        ([m, n]) => {
          const ls = leaves(n);
          verifyConsistency(m, n, rootOf(ls.slice(0, m)), rootOf(ls), consistency(ls, m, n));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a rewritten history, a changed proof and swapped sizes', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 300 })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        fc.nat(),
        ([m, n], pick) => {
          const ls = leaves(n);
          const proof = consistency(ls, m, n);
          const oldRoot = rootOf(ls.slice(0, m));
          // The second tree rewrote one of the first m leaves.
          const rewritten = [...ls];
          rewritten[pick % m] = leafHash('rewritten');
          expect(code(() => verifyConsistency(m, n, oldRoot, rootOf(rewritten), proof))).toBe(
            'inconsistent',
          );
          expect(
            code(() =>
              verifyConsistency(m, n, oldRoot, rootOf(rewritten), consistency(rewritten, m, n)),
            ),
          ).toBe('inconsistent');
          const changed = proof.map((h, i) => (i === pick % proof.length ? leafHash('x') : h));
          expect(code(() => verifyConsistency(m, n, oldRoot, rootOf(ls), changed))).toBe(
            'inconsistent',
          );
          expect(code(() => verifyConsistency(n, m, rootOf(ls), oldRoot, proof))).toBe(
            'inconsistent',
          );
          expect(code(() => verifyConsistency(m, n, oldRoot, rootOf(ls), []))).toBe('inconsistent');
        },
      ),
      { numRuns: 150 },
    );
  });
});
