import { TransparencyError } from './errors.js';
import {
  consistencyProofRanges,
  inclusionProofRanges,
  leafHash as leafHashOf,
  nodeHash,
  nodesFor,
  rangeHash,
  type Hash,
  type PerfectNode,
  type Range,
} from './merkle.js';

/**
 * The C2SP tlog-tiles layout (docs/decisions.md, "Settlement log as tiles"): the tree is served
 * as immutable tiles of 256 consecutive hashes, each hash at tile level L the Merkle Tree Hash
 * of 256^L leaves; level-0 tiles hold the leaf hashes. A tree of any size is its full tiles plus
 * at most one partial tile per level, and a partial tile is a prefix of the full tile it grows
 * into, so anything served once never changes.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const HASH_SIZE = 32;
export const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;

/** A tile of the tree: level L ≥ 0, index N ≥ 0 within the level, 1 ≤ width ≤ 256 hashes. */
export type TileRef = { level: number; index: number; width: number };

const MAX_LEVEL = 63;

function checkIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TransparencyError('invalid_argument', `${what} must be a non-negative integer`);
  }
}

/** `<N>` of a tile path: zero-padded 3-digit elements, all but the last prefixed with `x`. */
export function encodeTileIndex(n: number): string {
  checkIndex(n, 'tile index');
  const parts: string[] = [];
  let rest = n;
  do {
    parts.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

function widthSuffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new TransparencyError('invalid_argument', `tile width must be 1 to ${TILE_WIDTH}`);
  }
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]`, relative to the log's prefix. */
export function tilePath(t: TileRef): string {
  if (!Number.isInteger(t.level) || t.level < 0 || t.level > MAX_LEVEL) {
    throw new TransparencyError('invalid_argument', `tile level must be 0 to ${MAX_LEVEL}`);
  }
  return `tile/${t.level}/${encodeTileIndex(t.index)}${widthSuffix(t.width)}`;
}

/** `tile/entries/<N>[.p/<W>]`: the entry bundle beside level-0 tile N. */
export function entriesPath(index: number, width: number): string {
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

export type ParsedTilePath = TileRef & { entries: boolean };

const PATH =
  /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a tile or entry bundle path exactly as tlog-tiles spells it (no leading zeroes on L or
 * W, 3-digit index elements, `.p/W` with 1 ≤ W ≤ 255); throws `invalid_argument` otherwise.
 */
export function parseTilePath(path: string): ParsedTilePath {
  const m = PATH.exec(path);
  const bad = (why: string): never => {
    throw new TransparencyError('invalid_argument', `not a tile path (${why}): ${path}`);
  };
  if (!m) return bad('syntax');
  const entries = m[1] === 'entries';
  const level = entries ? 0 : Number(m[1]);
  if (level > MAX_LEVEL) bad('level');
  const digits = [
    ...m[2]
      .split('/')
      .filter(Boolean)
      .map((p) => p.slice(1)),
    m[3],
  ];
  if (digits.length > 1 && digits[0] === '000') bad('leading zero element');
  let index = 0;
  for (const d of digits) index = index * 1000 + Number(d);
  if (!Number.isSafeInteger(index)) bad('index too large');
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (m[4] !== undefined && width >= TILE_WIDTH) bad('width');
  return { level, index, width, entries };
}

/** Hashes each entry of tile level L stands for: 256^L leaves. */
const span = (level: number): number => TILE_WIDTH ** level;

/** Width of tile (level, index) in the tree of `size` leaves (0: not in that tree). */
export function tileWidthAt(size: number, level: number, index: number): number {
  const entries = Math.floor(size / span(level)); // complete entries at this level
  const start = index * TILE_WIDTH;
  if (entries <= start) return 0;
  return Math.min(TILE_WIDTH, entries - start);
}

/** Every tile of the tree of `size` leaves at `level`, left to right (the last may be partial). */
export function tilesAtLevel(size: number, level: number): TileRef[] {
  const entries = Math.floor(size / span(level));
  const out: TileRef[] = [];
  for (let i = 0; i * TILE_WIDTH < entries; i++) {
    out.push({ level, index: i, width: Math.min(TILE_WIDTH, entries - i * TILE_WIDTH) });
  }
  return out;
}

/** The rightmost partial tile of each level of the tree of `size` leaves, bottom up. */
export function partialTiles(size: number): TileRef[] {
  const out: TileRef[] = [];
  for (let level = 0; span(level) <= size; level++) {
    const w = Math.floor(size / span(level)) % TILE_WIDTH;
    if (w > 0) out.push({ level, index: Math.floor(size / span(level + 1)), width: w });
  }
  return out;
}

/**
 * Where a perfect subtree's hash comes from: tile level L = ⌊level / 8⌋ holds hashes of 256^L
 * leaves, so a node of height `level` is the MTH of 2^(level mod 8) consecutive, aligned
 * entries of one tile of that level.
 */
export function tileOfNode(node: PerfectNode): {
  level: number;
  index: number;
  /** First entry of the node within the tile, and how many entries it spans. */
  offset: number;
  count: number;
} {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const count = 2 ** (node.level - level * TILE_HEIGHT);
  const first = node.index * count;
  return {
    level,
    index: Math.floor(first / TILE_WIDTH),
    offset: first % TILE_WIDTH,
    count,
  };
}

const key = (level: number, index: number): string => `${level}/${index}`;

/**
 * The tiles of the tree of `size` leaves (each at its width in that tree) holding every node
 * the ranges need: what a client fetches to compute a proof or a root.
 */
export function tilesForRanges(size: number, ranges: readonly Range[]): TileRef[] {
  const seen = new Map<string, TileRef>();
  for (const n of nodesFor(ranges)) {
    const t = tileOfNode(n);
    const k = key(t.level, t.index);
    if (!seen.has(k)) {
      const width = tileWidthAt(size, t.level, t.index);
      if (width < t.offset + t.count) {
        throw new TransparencyError(
          'invalid_argument',
          `node ${n.level}:${n.index} is not in the tree of ${size}`,
        );
      }
      seen.set(k, { level: t.level, index: t.index, width });
    }
  }
  return [...seen.values()];
}

/**
 * Hashes within one tile: level r of the subtree the tile's entries form (r = 0: the entries),
 * computed once per level on demand. Only complete nodes exist in a partial tile.
 */
export class TileHashes {
  private readonly levels: Hash[][];

  constructor(readonly data: Uint8Array) {
    if (data.length % HASH_SIZE !== 0 || data.length > FULL_TILE_BYTES) {
      throw new TransparencyError('bad_proof', `a tile of ${data.length} bytes`);
    }
    const entries: Hash[] = [];
    for (let i = 0; i < data.length; i += HASH_SIZE) {
      entries.push(data.subarray(i, i + HASH_SIZE));
    }
    this.levels = [entries];
  }

  get width(): number {
    return this.levels[0].length;
  }

  /** The tile's entries (views into its data). */
  entries(): Hash[] {
    return [...this.levels[0]];
  }

  /** MTH of entries [offset, offset + count), count a power of two, offset aligned to it. */
  hash(offset: number, count: number): Hash {
    const r = Math.log2(count);
    for (let l = this.levels.length; l <= r; l++) {
      const below = this.levels[l - 1];
      const up: Hash[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i], below[i + 1]));
      this.levels.push(up);
    }
    const h = this.levels[r][offset / count];
    if (!h) {
      throw new TransparencyError('bad_proof', `tile of width ${this.width} lacks a node`);
    }
    return h;
  }
}

/** The MTH of all 256 entries of a full tile: the entry it becomes one level up. */
export function fullTileRoot(data: Uint8Array): Hash {
  return new TileHashes(data).hash(0, TILE_WIDTH);
}

/** Reads tiles (each at its given width, or wider: a longer prefix of the same tile). */
export type TileReader = (tiles: readonly TileRef[]) => Promise<readonly TileHashes[]>;

async function rangeHashes(
  size: number,
  ranges: readonly Range[],
  read: TileReader,
): Promise<Hash[]> {
  if (ranges.length === 0) return [];
  const tiles = tilesForRanges(size, ranges);
  const got = await read(tiles);
  const byKey = new Map<string, TileHashes>();
  tiles.forEach((t, i) => {
    const h = got[i];
    if (!h || h.width < t.width) {
      throw new TransparencyError('bad_proof', `tile ${tilePath(t)} is missing or short`);
    }
    byKey.set(key(t.level, t.index), h);
  });
  return ranges.map((r) =>
    rangeHash(r, (n) => {
      const t = tileOfNode(n);
      return (byKey.get(key(t.level, t.index)) as TileHashes).hash(t.offset, t.count);
    }),
  );
}

/** RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves, from its tiles. */
export async function inclusionProofFromTiles(
  index: number,
  size: number,
  read: TileReader,
): Promise<Hash[]> {
  return rangeHashes(size, inclusionProofRanges(index, size), read);
}

/** RFC 9162 consistency proof from `first` to `second` leaves, from the second tree's tiles. */
export async function consistencyProofFromTiles(
  first: number,
  second: number,
  read: TileReader,
): Promise<Hash[]> {
  return rangeHashes(second, consistencyProofRanges(first, second), read);
}

/** MTH of the tree of `size` leaves, from its tiles (only the rightmost tiles are read). */
export async function rootFromTiles(size: number, read: TileReader): Promise<Hash> {
  checkIndex(size, 'tree size');
  if (size === 0) return rangeHash({ start: 0, end: 0 }, () => new Uint8Array());
  const [h] = await rangeHashes(size, [{ start: 0, end: size }], read);
  return h;
}

/** A tile whose contents changed: full tiles are final, partial ones grow. */
export type TileWrite = { level: number; index: number; data: Uint8Array };

/**
 * The right edge of a tiled tree: the partial tile of each level. Appending leaf hashes returns
 * every tile that changed (each full tile once, when it fills; then the partial tiles as they
 * end), so a store writes O(n / 256) rows for n leaves. Start it from a tree's partial tiles.
 */
export class TileBuilder {
  /** Per level: the entries of its partial tile, and how many full tiles it has. */
  private readonly edge: Hash[][] = [];
  private readonly full: number[] = [];
  private n: number;

  /** `partials`: the data of `partialTiles(size)`, bottom up. */
  constructor(size = 0, partials: readonly Uint8Array[] = []) {
    checkIndex(size, 'size');
    const want = partialTiles(size);
    if (partials.length !== want.length) {
      throw new TransparencyError(
        'invalid_argument',
        `a tree of ${size} has ${want.length} partial tiles, not ${partials.length}`,
      );
    }
    for (let level = 0; span(level) <= size; level++) {
      this.edge.push([]);
      this.full.push(Math.floor(size / span(level + 1)));
    }
    want.forEach((t, i) => {
      const data = partials[i];
      if (data.length !== t.width * HASH_SIZE) {
        throw new TransparencyError(
          'invalid_argument',
          `the partial tile at level ${t.level} must be ${t.width} hashes wide`,
        );
      }
      this.edge[t.level] = new TileHashes(new Uint8Array(data)).entries();
    });
    this.n = size;
  }

  get size(): number {
    return this.n;
  }

  /** Appends leaf hashes; returns the tiles that changed: full ones as they fill, then partials. */
  append(leaves: readonly Hash[]): TileWrite[] {
    const out: TileWrite[] = [];
    const dirty = new Set<number>();
    const push = (level: number, h: Hash): void => {
      while (this.edge.length <= level) {
        this.edge.push([]);
        this.full.push(0);
      }
      const entries = this.edge[level];
      entries.push(h);
      dirty.add(level);
      if (entries.length === TILE_WIDTH) {
        const data = concat(entries, FULL_TILE_BYTES);
        out.push({ level, index: this.full[level], data });
        this.full[level] += 1;
        this.edge[level] = [];
        push(level + 1, fullTileRoot(data));
      }
    };
    for (const leaf of leaves) {
      if (leaf.length !== HASH_SIZE) {
        throw new TransparencyError('invalid_argument', 'a leaf hash is 32 bytes');
      }
      this.n += 1;
      push(0, leaf);
    }
    for (const level of [...dirty].sort((a, b) => a - b)) {
      const entries = this.edge[level];
      if (entries.length === 0) continue;
      out.push({
        level,
        index: this.full[level],
        data: concat(entries, entries.length * HASH_SIZE),
      });
    }
    return out;
  }

  /** The partial tiles now, bottom up (what the constructor takes). */
  partials(): Uint8Array[] {
    return this.edge.filter((e) => e.length > 0).map((e) => concat(e, e.length * HASH_SIZE));
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Entry bundles: big-endian uint16 length-prefixed entries (tlog-tiles "Log entries"). */
export const MAX_ENTRY_BYTES = 0xffff;

export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length > TILE_WIDTH) {
    throw new TransparencyError('invalid_argument', `a bundle holds at most ${TILE_WIDTH} entries`);
  }
  let bytes = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_BYTES) {
      throw new TransparencyError('invalid_argument', `an entry of ${e.length} bytes is too long`);
    }
    bytes += 2 + e.length;
  }
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

export function decodeEntryBundle(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length)
      throw new TransparencyError('bad_proof', 'entry bundle: truncated length');
    const len = (data[at] << 8) | data[at + 1];
    if (at + 2 + len > data.length)
      throw new TransparencyError('bad_proof', 'entry bundle: truncated entry');
    out.push(data.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  if (out.length > TILE_WIDTH)
    throw new TransparencyError('bad_proof', 'entry bundle: too many entries');
  return out;
}

/** Fetches a tile or entry bundle by its path relative to the log's prefix. */
export type TileFetcher = (path: string) => Promise<Uint8Array>;

/** A TileReader over a fetcher, fetching each tile once (at its width in the tree read). */
export function tileReaderOf(fetchTile: TileFetcher): TileReader {
  const got = new Map<string, Promise<TileHashes>>();
  return (refs) =>
    Promise.all(
      refs.map((r) => {
        const p = tilePath(r);
        let t = got.get(p);
        if (!t) {
          t = fetchTile(p).then((d) => {
            if (d.length !== r.width * HASH_SIZE) {
              throw new TransparencyError(
                'bad_proof',
                `${p}: ${d.length} bytes, not ${r.width * HASH_SIZE}`,
              );
            }
            return new TileHashes(d);
          });
          got.set(p, t);
        }
        return t;
      }),
    );
}

/**
 * Audits a whole tiled log against a checkpoint's size and root, as a mirror or monitor does:
 * every tile is fetched at its width, each full tile hashes to its entry one level up, the
 * tiles lead to the root, and (with `entries`) every entry bundle hashes to its level-0 tile.
 * Throws `bad_proof` naming the first tile that does not fit; returns the tiles' count.
 */
export async function auditTiles(
  size: number,
  rootHash: Hash,
  fetchTile: TileFetcher,
  opts: { entries?: boolean; leafHash?: (entry: Uint8Array) => Hash } = {},
): Promise<{ tiles: number; entries: number }> {
  let tiles = 0;
  let entries = 0;
  let expected: Hash[] = []; // entries the level below says this level must hold
  for (let level = 0; span(level) <= size; level++) {
    const next: Hash[] = [];
    for (const t of tilesAtLevel(size, level)) {
      const path = tilePath(t);
      const data = await fetchTile(path);
      tiles += 1;
      if (data.length !== t.width * HASH_SIZE) {
        throw new TransparencyError(
          'bad_proof',
          `${path}: ${data.length} bytes, not ${t.width * HASH_SIZE}`,
        );
      }
      const hashes = new TileHashes(data);
      if (level > 0) {
        hashes.entries().forEach((h, i) => {
          const want = expected[t.index * TILE_WIDTH + i];
          if (!want || !sameHash(want, h)) {
            throw new TransparencyError(
              'bad_proof',
              `${path}: entry ${i} is not the hash of the tile below`,
            );
          }
        });
      } else if (opts.entries) {
        const bundle = decodeEntryBundle(await fetchTile(entriesPath(t.index, t.width)));
        if (bundle.length !== t.width) {
          throw new TransparencyError(
            'bad_proof',
            `entries ${t.index}: ${bundle.length} entries, not ${t.width}`,
          );
        }
        const hashOf = opts.leafHash ?? ((e: Uint8Array) => leafHashOf(e));
        bundle.forEach((e, i) => {
          if (!sameHash(hashOf(e), hashes.entries()[i])) {
            throw new TransparencyError(
              'bad_proof',
              `entry ${t.index * TILE_WIDTH + i} does not hash to its leaf`,
            );
          }
        });
        entries += bundle.length;
      }
      if (t.width === TILE_WIDTH) next.push(fullTileRoot(data));
    }
    expected = next;
  }
  const root = await rootFromTiles(size, tileReaderOf(fetchTile));
  if (!sameHash(root, rootHash)) {
    throw new TransparencyError('bad_proof', 'the tiles do not lead to the checkpoint root');
  }
  return { tiles, entries };
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
