import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  auditTiles,
  consistencyProofFromTiles,
  consistencyProofRanges,
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  entriesPath,
  inclusionProofFromTiles,
  inclusionProofRanges,
  leafHash,
  parseTilePath,
  partialTiles,
  rangeHash,
  rootFromTiles,
  rootOf,
  TileBuilder,
  TileHashes,
  tilePath,
  tilesAtLevel,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type TileReader,
  type TileRef,
} from './index.js';
import { errorCode } from './testing.js';

const leaves = (n: number, salt = ''): Hash[] =>
  Array.from({ length: n }, (_, i) => leafHash(`leaf ${salt}${i}`));

/** The reference: MTH of any perfect subtree straight from the leaves (RFC 9162 definition). */
const naive = (ls: Hash[]) => (n: { level: number; index: number }) =>
  rootOf(ls.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level));

/** An in-memory tile store fed by a TileBuilder, read at exactly the requested widths. */
function tiledStore(ls: Hash[], chunks: number[] = [ls.length]) {
  const tiles = new Map<string, Uint8Array>();
  const b = new TileBuilder();
  let at = 0;
  for (const c of chunks) {
    for (const w of b.append(ls.slice(at, at + c))) {
      const k = `${w.level}/${w.index}`;
      const before = tiles.get(k);
      // A tile only ever grows: what was written stays its prefix.
      if (before)
        expect(Buffer.from(w.data.subarray(0, before.length))).toEqual(Buffer.from(before));
      tiles.set(k, w.data);
    }
    at += c;
  }
  const reads: TileRef[] = [];
  const read: TileReader = async (refs) =>
    refs.map((r) => {
      reads.push(r);
      const d = tiles.get(`${r.level}/${r.index}`);
      if (!d) throw new Error(`no tile ${tilePath(r)}`);
      return new TileHashes(d.subarray(0, r.width * 32));
    });
  return { tiles, read, reads, builder: b };
}

const code = errorCode;

describe('tile paths (C2SP tlog-tiles)', () => {
  it('encodes indices as 3-digit elements, all but the last prefixed with x', () => {
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(5)).toBe('005');
    expect(encodeTileIndex(1000)).toBe('x001/000');
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 1, index: 3, width: 17 })).toBe('tile/1/003.p/17');
    expect(entriesPath(1234067, 256)).toBe('tile/entries/x001/x234/067');
    expect(entriesPath(0, 1)).toBe('tile/entries/000.p/1');
  });

  it('parses what it prints, and nothing else', () => {
    const ref = fc.record({
      level: fc.integer({ min: 0, max: 63 }),
      index: fc.maxSafeNat(),
      width: fc.integer({ min: 1, max: 256 }),
    });
    fc.assert(
      fc.property(ref, (t) => {
        expect(parseTilePath(tilePath(t))).toEqual({ ...t, entries: false });
        expect(parseTilePath(entriesPath(t.index, t.width))).toEqual({
          level: 0,
          index: t.index,
          width: t.width,
          entries: true,
        });
      }),
    );
    for (const bad of [
      'tile/01/000',
      'tile/64/000',
      'tile/0/1',
      'tile/0/0001',
      'tile/0/x000/001',
      'tile/0/001/002',
      'tile/0/000.p/0',
      'tile/0/000.p/256',
      'tile/0/000.p/05',
      'tile/0/000.p/',
      'tile/data/000',
      '/tile/0/000',
      'tile/0/x001/x234/067/',
    ]) {
      expect({ bad, code: code(() => parseTilePath(bad)) }).toEqual({
        bad,
        code: 'invalid_argument',
      });
    }
  });

  it('lays out a tree of 70,000 as the spec says', () => {
    expect(tilesAtLevel(70_000, 0)).toHaveLength(274);
    expect(tilesAtLevel(70_000, 0)[273]).toEqual({ level: 0, index: 273, width: 112 });
    expect(tilesAtLevel(70_000, 1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(tilesAtLevel(70_000, 2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(partialTiles(70_000)).toEqual([
      { level: 0, index: 273, width: 112 },
      { level: 1, index: 1, width: 17 },
      { level: 2, index: 0, width: 1 },
    ]);
    // 256 leaves: one full level-0 tile and a partial level-1 tile of width 1.
    expect(tilesAtLevel(256, 0)).toEqual([{ level: 0, index: 0, width: 256 }]);
    expect(partialTiles(256)).toEqual([{ level: 1, index: 0, width: 1 }]);
    expect(partialTiles(0)).toEqual([]);
  });
});

describe('TileBuilder', () => {
  it('builds the tiles the definition gives, whatever the batches', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1400 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
        (n, cuts) => {
          const ls = leaves(n);
          const chunks: number[] = [];
          let left = n;
          for (const c of cuts) {
            if (left === 0) break;
            chunks.push(Math.min(c, left));
            left -= Math.min(c, left);
          }
          if (left > 0) chunks.push(left);
          const { tiles } = tiledStore(ls, chunks);
          const ref = naive(ls);
          for (const level of [0, 1]) {
            for (const t of tilesAtLevel(n, level)) {
              const data = tiles.get(`${level}/${t.index}`) as Uint8Array;
              expect(data.length).toBe(t.width * 32);
              for (const i of [0, t.width - 1]) {
                const h = ref({ level: 8 * level, index: t.index * 256 + i });
                expect(toHex(data.subarray(i * 32, i * 32 + 32))).toBe(toHex(h));
              }
            }
          }
          expect(tiles.size).toBe([0, 1, 2].reduce((s, l) => s + tilesAtLevel(n, l).length, 0));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('resumes from the partial tiles of any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 600 }), (a, b) => {
        const ls = leaves(a + b);
        const first = new TileBuilder();
        first.append(ls.slice(0, a));
        const resumed = new TileBuilder(a, first.partials());
        const whole = new TileBuilder();
        whole.append(ls);
        resumed.append(ls.slice(a));
        expect(resumed.partials().map(toHex)).toEqual(whole.partials().map(toHex));
        expect(resumed.size).toBe(a + b);
      }),
      { numRuns: 60 },
    );
    expect(code(() => new TileBuilder(300, []))).toBe('invalid_argument');
    expect(code(() => new TileBuilder(3, [new Uint8Array(64)]))).toBe('invalid_argument');
  });
});

describe('proofs from tiles', () => {
  it('equal the RFC 9162 reference for every leaf and size, and verify', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 1100 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.integer({ min: 0, max: n - 1 }),
              fc.integer({ min: 1, max: n }),
            ),
          ),
        async ([n, i, m]) => {
          const ls = leaves(n);
          const { read } = tiledStore(ls, [Math.ceil(n / 3), n - Math.ceil(n / 3)]);
          const root = rootOf(ls);
          const ref = naive(ls);
          // Inclusion of leaf i in the tree of n, and in the older tree of m ≥ i + 1.
          const inc = await inclusionProofFromTiles(i, n, read);
          expect(inc.map(toHex)).toEqual(
            inclusionProofRanges(i, n).map((r) => toHex(rangeHash(r, ref))),
          );
          verifyInclusion(i, n, ls[i], inc, root);
          const size = Math.max(m, i + 1);
          const old = await inclusionProofFromTiles(i, size, read);
          verifyInclusion(i, size, ls[i], old, rootOf(ls.slice(0, size)));
          // Consistency m → n, and the root of every size from the tiles of that size.
          const cons = await consistencyProofFromTiles(m, n, read);
          expect(cons.map(toHex)).toEqual(
            consistencyProofRanges(m, n).map((r) => toHex(rangeHash(r, ref))),
          );
          verifyConsistency(m, n, rootOf(ls.slice(0, m)), root, cons);
          expect(toHex(await rootFromTiles(m, read))).toBe(toHex(rootOf(ls.slice(0, m))));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('read at most two tiles per level (the path’s and the right edge’s), at that size’s width', async () => {
    const n = 70_000;
    const ls = leaves(n, 'big');
    const { read, reads } = tiledStore(ls, [65_000, 5_000]);
    const root = rootOf(ls);
    expect(toHex(await rootFromTiles(n, read))).toBe(toHex(root));
    for (const i of [0, 255, 256, 65_535, 65_536, 69_999]) {
      reads.length = 0;
      const proof = await inclusionProofFromTiles(i, n, read);
      verifyInclusion(i, n, ls[i], proof, root);
      for (const level of [0, 1, 2]) {
        expect(reads.filter((r) => r.level === level).length).toBeLessThanOrEqual(2);
      }
      for (const r of reads) expect(r.width).toBe(tilesAtLevel(n, r.level)[r.index].width);
    }
    for (const m of [1, 256, 65_536, 65_537, 69_999]) {
      const proof = await consistencyProofFromTiles(m, n, read);
      verifyConsistency(m, n, rootOf(ls.slice(0, m)), root, proof);
    }
  });

  it('refuses a short or missing tile', async () => {
    const ls = leaves(300);
    const short: TileReader = async (refs) => refs.map(() => new TileHashes(new Uint8Array(32)));
    await expect(inclusionProofFromTiles(5, 300, short)).rejects.toMatchObject({
      code: 'bad_proof',
    });
    const { read } = tiledStore(ls);
    await expect(inclusionProofFromTiles(300, 300, read)).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    expect(code(() => new TileHashes(new Uint8Array(33)))).toBe('bad_proof');
  });
});

describe('auditTiles (a mirror checking a whole log)', () => {
  it('accepts the tiles and entries of a log, and names the first tile that does not fit', async () => {
    const n = 66_000;
    const data = Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i}`));
    const ls = data.map((d) => leafHash(d));
    const { tiles } = tiledStore(ls, [30_000, 36_000]);
    const files = new Map<string, Uint8Array>();
    for (const level of [0, 1, 2]) {
      for (const t of tilesAtLevel(n, level)) {
        files.set(
          tilePath(t),
          (tiles.get(`${level}/${t.index}`) as Uint8Array).subarray(0, t.width * 32),
        );
      }
    }
    for (const t of tilesAtLevel(n, 0)) {
      files.set(
        entriesPath(t.index, t.width),
        encodeEntryBundle(data.slice(t.index * 256, t.index * 256 + t.width)),
      );
    }
    const fetchTile = async (p: string) => {
      const f = files.get(p);
      if (!f) throw new Error(`404 ${p}`);
      return f;
    };
    const root = rootOf(ls);
    expect(await auditTiles(n, root, fetchTile, { entries: true })).toEqual({
      tiles: 258 + 2 + 1,
      entries: n,
    });
    await expect(auditTiles(n, leafHash('other'), fetchTile)).rejects.toMatchObject({
      code: 'bad_proof',
    });
    // A level-0 tile changed after its hash went up a level.
    const t5 = 'tile/0/005';
    const good = files.get(t5) as Uint8Array;
    const bad = new Uint8Array(good);
    bad[40] ^= 1;
    files.set(t5, bad);
    await expect(auditTiles(n, root, fetchTile)).rejects.toThrow('tile/1/000: entry 5');
    files.set(t5, good);
    // An entry that does not hash to its leaf.
    const e0 = entriesPath(0, 256);
    files.set(e0, encodeEntryBundle([Buffer.from('forged'), ...data.slice(1, 256)]));
    await expect(auditTiles(n, root, fetchTile, { entries: true })).rejects.toThrow(
      'entry 0 does not hash',
    );
  });
});

describe('entry bundles', () => {
  it('round-trip uint16 length-prefixed entries', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 256 }), (entries) => {
        const data = encodeEntryBundle(entries);
        expect(data.length).toBe(entries.reduce((s, e) => s + 2 + e.length, 0));
        expect(decodeEntryBundle(data).map((e) => Buffer.from(e))).toEqual(
          entries.map((e) => Buffer.from(e)),
        );
      }),
      { numRuns: 50 },
    );
    expect(Buffer.from(encodeEntryBundle([new Uint8Array([7]), new Uint8Array(0)]))).toEqual(
      Buffer.from([0, 1, 7, 0, 0]),
    );
  });

  it('refuses entries over 65,535 bytes, bundles over 256 entries, and truncation', () => {
    expect(code(() => encodeEntryBundle([new Uint8Array(65_536)]))).toBe('invalid_argument');
    expect(
      code(() => encodeEntryBundle(Array.from({ length: 257 }, () => new Uint8Array(0)))),
    ).toBe('invalid_argument');
    expect(code(() => decodeEntryBundle(new Uint8Array([0, 3, 1, 2])))).toBe('bad_proof');
    expect(code(() => decodeEntryBundle(new Uint8Array([0])))).toBe('bad_proof');
  });
});
