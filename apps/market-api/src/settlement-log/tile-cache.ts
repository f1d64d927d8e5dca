import { FULL_TILE_BYTES, HASH_SIZE, TileHashes } from '@suanli/transparency';

/**
 * Tiles of the settlement log kept in memory, least recently used first out. Safe without
 * invalidation because a stored tile never changes except by growing: a full tile is final, and
 * a partial one answers any request up to its width (a wider copy replaces it). Each entry keeps
 * the subtree hashes computed within it, so a tile is hashed once, not once per proof.
 */
export class TileCache {
  private readonly entries = new Map<string, TileHashes>();

  constructor(private readonly capacity: number) {}

  /** The tile if cached at `width` hashes or wider. */
  get(level: number, index: number, width: number): TileHashes | undefined {
    const k = `${level}/${index}`;
    const t = this.entries.get(k);
    if (!t || t.width < width) return undefined;
    this.entries.delete(k);
    this.entries.set(k, t);
    return t;
  }

  /** Keeps a tile read from or written to the store (ignored when a wider copy is cached). */
  put(level: number, index: number, data: Uint8Array): void {
    if (this.capacity <= 0 || data.length === 0 || data.length > FULL_TILE_BYTES) return;
    const k = `${level}/${index}`;
    const had = this.entries.get(k);
    if (had && had.width >= data.length / HASH_SIZE) return;
    this.entries.delete(k);
    this.entries.set(k, new TileHashes(data));
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
