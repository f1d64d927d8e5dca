import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { JWK } from 'jose';
import {
  consistencyProofFromTiles,
  encodeEntryBundle,
  HASH_SIZE,
  inclusionProofFromTiles,
  leafHash,
  parseTilePath,
  partialTiles,
  rootFromTiles,
  signCheckpoint,
  signCheckpointNote,
  TILE_WIDTH,
  TileBuilder,
  tilePath,
  toHex,
  type Hash,
  type RecordBundle,
  type TileReader,
} from '@suanli/transparency';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import {
  SettlementLogCheckpointEntity,
  type SettlementLogKind,
} from '../database/settlement-log.entities.js';
import type { LeafInput } from './leaf-records.js';
import { PseudonymSecret } from '../privacy/pseudonym-secret.js';
import { SettlementLogConfig } from './settlement-log.config.js';
import { TileCache } from './tile-cache.js';
import { canonicalJson } from '@suanli/crypto';

/** Serializes sequencers across processes (and checkpoint signing with them). */
const SEQUENCER_LOCK = 0x5e771e;

export type CheckpointView = {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  kid: string;
  /** The compact JWS over the checkpoint (verify it with `/.well-known/jwks.json`). */
  jws: string;
  /** The same checkpoint as a C2SP signed note (what `/v1/transparency/log/checkpoint` serves). */
  note: string | null;
};

export type LeafView = {
  kind: SettlementLogKind;
  recordId: string;
  leafIndex: number | null;
  leafHash: string;
  record: unknown;
  createdAt: string;
};

const buf = (h: Hash): Buffer => Buffer.from(h.buffer, h.byteOffset, h.byteLength);

/**
 * The settlement log: an append-only RFC 9162 Merkle tree over the pseudonymized settlement
 * records, in PostgreSQL. `append` runs inside the transaction that creates the record (a row
 * with no index yet: no lock, no contention); `sequence` gives pending leaves the next indices
 * in arrival order under an advisory lock and stores every perfect subtree they complete, so
 * any proof is O(log n) reads; checkpoints are signed with the platform key.
 */
@Injectable()
export class SettlementLogService {
  private readonly log = new Logger('settlement-log');
  private readonly origin: string;
  private signingJwk: JWK | undefined;
  private readonly tiles: TileCache;
  /** The largest tree size seen (sizes only grow): proofs within it need no size query. */
  private knownSize = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly appConfig: AppConfig,
    private readonly clock: Clock,
    private readonly config: SettlementLogConfig,
    // The pseudonym secret's home is privacy (the leaves are built by SettlementLogLeaves).
    readonly pseudonyms: PseudonymSecret,
  ) {
    this.origin = config.origin ?? `${appConfig.platformCode}/settlement`;
    this.tiles = new TileCache(config.tileCache);
  }

  get logOrigin(): string {
    return this.origin;
  }

  /** Appends leaves in the caller's transaction; a record already in the log is skipped. */
  async append(m: EntityManager, leaves: readonly LeafInput[]): Promise<void> {
    if (leaves.length === 0) return;
    // One JSON parameter for all the rows: JSON.stringify is native, where pg's array literals
    // escape every element in JS (bench/RESULTS.md, "Settlement").
    const rows = leaves.map((l) => {
      const text = canonicalJson(l.record);
      return {
        k: l.kind,
        r: l.recordId,
        s: l.sellerOrgId,
        b: l.buyerOrgId,
        l: text,
        h: toHex(leafHash(text)),
      };
    });
    // tx orders the leaf for the sequencer (see `sequence`).
    await m.query(
      `INSERT INTO settlement_log_leaves (tx, kind, record_id, seller_org_id, buyer_org_id, leaf, leaf_hash)
       SELECT (SELECT pg_current_xact_id()::text::bigint), x.k, x.r, x.s, x.b, x.l, decode(x.h, 'hex')
       FROM json_to_recordset($1::json) AS x(k text, r text, s uuid, b uuid, l text, h text)
       ON CONFLICT (kind, record_id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  /** Number of sequenced leaves. */
  async size(m: EntityManager = this.db.manager): Promise<number> {
    const [r]: { n: string }[] = await m.query(
      'SELECT size::text AS n FROM settlement_log_state WHERE id = 1',
    );
    const n = Number(r?.n ?? 0);
    if (n > this.knownSize) this.knownSize = n;
    return n;
  }

  /** Reads tiles through the cache (full tiles are final; a partial one serves any prefix). */
  private readonly readTiles: TileReader = async (refs) => {
    const missing = refs.filter((r) => !this.tiles.get(r.level, r.index, r.width));
    if (missing.length > 0) {
      const rows: { level: number; idx: string; hashes: Buffer }[] = await this.db.query(
        `SELECT t.level, t.idx::text AS idx, t.hashes FROM settlement_log_tiles t
         JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx)
           ON t.level = w.level AND t.idx = w.idx`,
        [missing.map((r) => r.level), missing.map((r) => String(r.index))],
      );
      for (const r of rows) this.tiles.put(r.level, Number(r.idx), new Uint8Array(r.hashes));
    }
    return refs.map((r) => {
      const t = this.tiles.get(r.level, r.index, r.width);
      if (!t) throw new Error(`settlement log: tile ${tilePath(r)} missing`);
      return t;
    });
  };

  /** Root hash of the first `size` leaves (hex). */
  async rootAt(_m: EntityManager, size: number): Promise<string> {
    return toHex(await rootFromTiles(size, this.readTiles));
  }

  /**
   * Sequences pending leaves (at most `limit`): the next indices in (tx, seq) order, among the
   * leaves of transactions older than every transaction still running (so no earlier leaf can
   * still appear), and writes the tiles they change: O(1 / 256) rows per leaf. The advisory
   * lock serializes sequencers across processes. Returns how many were sequenced.
   */
  async sequence(limit = this.config.batch): Promise<number> {
    const written = await this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
      // Read pending leaves in index order and stop at the limit (no sort of all of them).
      await m.query('SET LOCAL enable_bitmapscan = off');
      const [state]: { size: string; tx: string; seq: string }[] = await m.query(
        `SELECT size::text, last_tx::text AS tx, last_seq::text AS seq
         FROM settlement_log_state WHERE id = 1`,
      );
      const pending: { seq: string; tx: string; hash: Buffer }[] = await m.query(
        `WITH h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin)
         SELECT l.seq::text AS seq, l.tx::text AS tx, l.leaf_hash AS hash FROM settlement_log_leaves l
         WHERE (l.tx, l.seq) > ($1::bigint, $2::bigint) AND l.tx < (SELECT xmin FROM h)
         ORDER BY l.tx, l.seq LIMIT $3`,
        [state.tx, state.seq, limit],
      );
      if (pending.length === 0) return null;
      const size = Number(state.size);
      const edge = partialTiles(size);
      const edgeRows: { level: number; hashes: Buffer }[] = await m.query(
        `SELECT t.level, t.hashes FROM settlement_log_tiles t
         JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx)
           ON t.level = w.level AND t.idx = w.idx ORDER BY t.level`,
        [edge.map((t) => t.level), edge.map((t) => String(t.index))],
      );
      if (edgeRows.length !== edge.length) {
        throw new Error(`settlement log: the partial tiles of a tree of ${size} are missing`);
      }
      const builder = new TileBuilder(
        size,
        edge.map((t, i) => new Uint8Array(edgeRows[i].hashes.subarray(0, t.width * HASH_SIZE))),
      );
      const tiles = builder.append(pending.map((p) => new Uint8Array(p.hash)));
      await m.query(
        `INSERT INTO settlement_log_tiles (level, idx, hashes)
         SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
         ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes`,
        [
          tiles.map((t) => t.level),
          tiles.map((t) => String(t.index)),
          tiles.map((t) => buf(t.data)),
        ],
      );
      // Which seq each new index holds, per level-0 tile (the partial one continued).
      const firstTile = Math.floor(size / TILE_WIDTH);
      const [prior]: { seqs: string[] }[] = await m.query(
        'SELECT seqs::text[] AS seqs FROM settlement_log_tile_leaves WHERE idx = $1',
        [firstTile],
      );
      const seqs = [
        ...(size % TILE_WIDTH === 0 ? [] : (prior?.seqs ?? [])),
        ...pending.map((p) => p.seq),
      ];
      const idxs: string[] = [];
      const lists: string[] = [];
      const ranges: string[] = [];
      for (let i = 0; i < seqs.length; i += TILE_WIDTH) {
        const part = seqs.slice(i, i + TILE_WIDTH);
        const sorted = part.map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        idxs.push(String(firstTile + i / TILE_WIDTH));
        lists.push(`{${part.join(',')}}`);
        ranges.push(`[${sorted[0]},${sorted[sorted.length - 1]}]`);
      }
      await m.query(
        `INSERT INTO settlement_log_tile_leaves (idx, seqs, seq_range)
         SELECT idx, seqs::bigint[], rng::int8range FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(idx, seqs, rng)
         ON CONFLICT (idx) DO UPDATE SET seqs = EXCLUDED.seqs, seq_range = EXCLUDED.seq_range`,
        [idxs, lists, ranges],
      );
      const last = pending[pending.length - 1];
      await m.query(
        'UPDATE settlement_log_state SET size = $1, last_tx = $2, last_seq = $3 WHERE id = 1',
        [String(builder.size), last.tx, last.seq],
      );
      return { n: pending.length, size: builder.size, tiles };
    });
    if (!written) return 0;
    // Committed: what was written is final (or a prefix of what will be), so it may be cached.
    for (const t of written.tiles) this.tiles.put(t.level, t.index, t.data);
    if (written.size > this.knownSize) this.knownSize = written.size;
    return written.n;
  }

  /** Sequences everything pending. */
  async sequenceAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.sequence();
      total += n;
      if (n < this.config.batch) return total;
    }
  }

  /**
   * Sequences everything pending, waiting (at most `catchUpMs`) for leaves already committed
   * but held back by an older writing transaction still running anywhere in the cluster, so
   * that a checkpoint right after a settlement includes its records.
   */
  async catchUp(): Promise<void> {
    const deadline = Date.now() + this.config.catchUpMs;
    for (;;) {
      await this.sequenceAll();
      // The cursor as parameters: joined to the state row, the planner scanned every leaf.
      const [st]: { tx: string; seq: string }[] = await this.db.query(
        'SELECT last_tx::text AS tx, last_seq::text AS seq FROM settlement_log_state WHERE id = 1',
      );
      const [{ blocked }]: { blocked: boolean }[] = await this.db.query(
        `SELECT EXISTS (SELECT 1 FROM settlement_log_leaves
          WHERE (tx, seq) > ($1::bigint, $2::bigint)) AS blocked`,
        [st.tx, st.seq],
      );
      if (!blocked || Date.now() >= deadline) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private jwk(): JWK {
    this.signingJwk ??= { ...(JSON.parse(this.appConfig.platformSigningJwk) as JWK), alg: 'EdDSA' };
    return this.signingJwk;
  }

  /**
   * Sequences pending leaves, then signs a checkpoint (as a JWS and as a C2SP signed note) when
   * the tree grew since the latest one, the latest is older than `maxAgeMs` or has no note.
   * Returns the latest checkpoint.
   */
  async checkpoint(maxAgeMs = this.config.checkpointMs): Promise<CheckpointView> {
    await this.catchUp();
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
      const size = await this.size(m);
      const latest = await m
        .getRepository(SettlementLogCheckpointEntity)
        .findOne({ where: {}, order: { id: 'DESC' } });
      const now = this.clock.now();
      if (
        latest &&
        latest.note !== null &&
        Number(latest.treeSize) === size &&
        now.getTime() - latest.signedAt.getTime() < maxAgeMs
      ) {
        return checkpointView(latest);
      }
      const rootHash = await this.rootAt(m, size);
      const jwk = this.jwk();
      const jws = await signCheckpoint(
        { origin: this.origin, treeSize: size, rootHash, timestamp: now.toISOString() },
        jwk,
      );
      const note = signCheckpointNote({ origin: this.origin, treeSize: size, rootHash }, jwk);
      const saved = await m.getRepository(SettlementLogCheckpointEntity).save({
        treeSize: String(size),
        rootHash,
        signedAt: now,
        kid: jwk.kid ?? '',
        jws,
        note,
      });
      return checkpointView(saved);
    });
  }

  /** The latest checkpoint, signing one first if the tree grew (or none exists). */
  latestCheckpoint(): Promise<CheckpointView> {
    return this.checkpoint();
  }

  /** A checkpoint signed earlier, by tree size (the newest of that size). */
  async checkpointOfSize(size: number): Promise<CheckpointView> {
    const row = await this.db
      .getRepository(SettlementLogCheckpointEntity)
      .findOne({ where: { treeSize: String(size) }, order: { id: 'DESC' } });
    if (!row) throw notFound('checkpoint', { treeSize: size });
    return checkpointView(row);
  }

  /** Whether the tree has `n` leaves (reads the size only when `n` exceeds the largest seen). */
  private async hasSize(n: number): Promise<{ ok: boolean; size: number }> {
    if (n <= this.knownSize) return { ok: true, size: this.knownSize };
    const size = await this.size();
    return { ok: n <= size, size };
  }

  /** RFC 9162 inclusion proof of leaf `index` in the tree of `treeSize` leaves. */
  async inclusionProof(
    index: number,
    treeSize: number,
  ): Promise<{ leafIndex: number; treeSize: number; hashes: string[] }> {
    const { ok, size } = await this.hasSize(treeSize);
    if (!(index >= 0 && index < treeSize && ok)) {
      throw new DomainError(
        'validation_failed',
        'need 0 ≤ leafIndex < treeSize ≤ the log size',
        400,
        { leafIndex: index, treeSize, size },
      );
    }
    const hashes = await inclusionProofFromTiles(index, treeSize, this.readTiles);
    return { leafIndex: index, treeSize, hashes: hashes.map(toHex) };
  }

  /** RFC 9162 consistency proof between tree sizes `first` ≤ `second`. */
  async consistencyProof(
    first: number,
    second: number,
  ): Promise<{ first: number; second: number; hashes: string[] }> {
    const { ok, size } = await this.hasSize(second);
    if (!(first >= 0 && first <= second && ok)) {
      throw new DomainError('validation_failed', 'need 0 ≤ first ≤ second ≤ the log size', 400, {
        first,
        second,
        size,
      });
    }
    const hashes = await consistencyProofFromTiles(first, second, this.readTiles);
    return { first, second, hashes: hashes.map(toHex) };
  }

  /**
   * A tile or entry bundle by its tlog-tiles path (`tile/<L>/<N>[.p/<W>]`,
   * `tile/entries/<N>[.p/<W>]`), or null when the tree has no such tile (yet).
   */
  async tile(path: string): Promise<Uint8Array | null> {
    const t = parseTilePath(path);
    if (!t.entries) {
      const [row]: { hashes: Buffer }[] = await this.db.query(
        'SELECT hashes FROM settlement_log_tiles WHERE level = $1 AND idx = $2',
        [t.level, String(t.index)],
      );
      const bytes = t.width * HASH_SIZE;
      if (!row || row.hashes.length < bytes) return null;
      return new Uint8Array(row.hashes.subarray(0, bytes));
    }
    const rows: { leaf: string }[] = await this.db.query(
      `SELECT l.leaf FROM settlement_log_tile_leaves t
       CROSS JOIN unnest(t.seqs[1:$2]) WITH ORDINALITY AS o(seq, ord)
       JOIN settlement_log_leaves l ON l.seq = o.seq
       WHERE t.idx = $1 AND cardinality(t.seqs) >= $2 ORDER BY o.ord`,
      [String(t.index), t.width],
    );
    if (rows.length < t.width) return null;
    return encodeEntryBundle(rows.map((r) => Buffer.from(r.leaf, 'utf8')));
  }

  /** The leaf of a record, if appended. */
  async leafOf(kind: SettlementLogKind, recordId: string): Promise<LeafView | null> {
    const rows: LeafRow[] = await this.db.query(
      `${LEAF_SELECT} WHERE l.kind = $1 AND l.record_id = $2`,
      [kind, recordId],
    );
    return rows.length === 0 ? null : leafView(rows[0]);
  }

  /**
   * A record with what proves it (leaf, inclusion proof, signed checkpoint), sequencing and
   * checkpointing first when needed. Null when the record is not in the log.
   */
  async bundleFor(kind: SettlementLogKind, recordId: string): Promise<RecordBundle | null> {
    let leaf = await this.leafOf(kind, recordId);
    if (!leaf) return null;
    let cp = await this.latestStoredCheckpoint();
    if (leaf.leafIndex === null || !cp || cp.treeSize <= leaf.leafIndex) {
      cp = await this.checkpoint();
      leaf = await this.leafOf(kind, recordId);
    }
    if (!leaf || leaf.leafIndex === null) return null;
    const proof = await this.inclusionProof(leaf.leafIndex, cp.treeSize);
    return {
      record: leaf.record,
      leafIndex: leaf.leafIndex,
      leafHash: leaf.leafHash,
      inclusionProof: { treeSize: proof.treeSize, hashes: proof.hashes },
      checkpoint: cp.jws,
    };
  }

  private async latestStoredCheckpoint(): Promise<CheckpointView | null> {
    const row = await this.db
      .getRepository(SettlementLogCheckpointEntity)
      .findOne({ where: {}, order: { id: 'DESC' } });
    return row ? checkpointView(row) : null;
  }

  /** Records a seller may read: on its resources, newest first (pseudonymized leaves). */
  async recordsOfSeller(
    sellerOrgId: string,
    opts: { kind?: SettlementLogKind; limit?: number } = {},
  ): Promise<LeafView[]> {
    const rows: LeafRow[] = await this.db.query(
      `${LEAF_SELECT} WHERE l.seller_org_id = $1 AND ($2::text IS NULL OR l.kind = $2)
       ORDER BY l.seq DESC LIMIT $3`,
      [sellerOrgId, opts.kind ?? null, Math.min(opts.limit ?? 200, 1000)],
    );
    return rows.map(leafView);
  }

  /** Settlement records of the given sellers (for assessors; the caller bands amounts). */
  async recordsOfSellers(sellerOrgIds: string[], limit = 200): Promise<LeafView[]> {
    if (sellerOrgIds.length === 0) return [];
    const rows: LeafRow[] = await this.db.query(
      `${LEAF_SELECT} WHERE l.seller_org_id = ANY($1::uuid[]) ORDER BY l.seq DESC LIMIT $2`,
      [sellerOrgIds, Math.min(limit, 1000)],
    );
    return rows.map(leafView);
  }

  /** Runs the periodic work: sequence, then checkpoint when due. */
  async tick(): Promise<void> {
    try {
      await this.checkpoint();
    } catch (e) {
      this.log.error(`checkpoint failed: ${(e as Error).message}`);
    }
  }
}

type LeafRow = {
  kind: SettlementLogKind;
  recordId: string;
  leafIndex: string | null;
  leafHash: Buffer;
  leaf: string;
  createdAt: Date;
};

/** A leaf with its index: position in the level-0 tile whose seqs hold it (null: pending). */
const LEAF_SELECT = `SELECT l.kind, l.record_id AS "recordId",
  (SELECT (t.idx * 256 + array_position(t.seqs, l.seq) - 1)::text FROM settlement_log_tile_leaves t
    WHERE t.seq_range @> l.seq AND l.seq = ANY (t.seqs) LIMIT 1) AS "leafIndex",
  l.leaf_hash AS "leafHash", l.leaf, l.created_at AS "createdAt" FROM settlement_log_leaves l`;

function leafView(r: LeafRow): LeafView {
  return {
    kind: r.kind,
    recordId: r.recordId,
    leafIndex: r.leafIndex === null ? null : Number(r.leafIndex),
    leafHash: r.leafHash.toString('hex'),
    record: JSON.parse(r.leaf) as unknown,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}

function checkpointView(c: SettlementLogCheckpointEntity): CheckpointView {
  return {
    treeSize: Number(c.treeSize),
    rootHash: c.rootHash,
    timestamp: c.signedAt.toISOString(),
    kid: c.kid,
    jws: c.jws,
    note: c.note,
  };
}
