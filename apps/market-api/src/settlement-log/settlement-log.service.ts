import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { JWK } from 'jose';
import {
  consistencyProofRanges,
  inclusionProofRanges,
  leafHash,
  MerkleFrontier,
  nodesFor,
  rangeHash,
  signCheckpoint,
  toHex,
  type Hash,
  type PerfectNode,
  type RecordBundle,
} from '@suanli/transparency';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import {
  SettlementLogCheckpointEntity,
  type SettlementLogKind,
} from '../database/settlement-log.entities.js';
import { SettlementConfig } from '../settlement/settlement.config.js';
import {
  creditLeaf,
  debitNoteLeaf,
  invoiceLeaf,
  payoutLeaf,
  type DebitNoteRow,
  type InvoiceRow,
  type LeafInput,
  type PayoutRow,
} from './leaf-records.js';
import { SettlementLogConfig } from './settlement-log.config.js';
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

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly appConfig: AppConfig,
    private readonly clock: Clock,
    private readonly config: SettlementLogConfig,
    private readonly settlementConfig: SettlementConfig,
  ) {
    this.origin = config.origin ?? `${appConfig.platformCode}/settlement`;
  }

  get logOrigin(): string {
    return this.origin;
  }

  private get secret(): string {
    return this.settlementConfig.pseudonymSecret;
  }

  /** Appends leaves in the caller's transaction; a record already in the log is skipped. */
  async append(m: EntityManager, leaves: readonly LeafInput[]): Promise<void> {
    if (leaves.length === 0) return;
    const kinds: string[] = [];
    const ids: string[] = [];
    const sellers: (string | null)[] = [];
    const buyers: (string | null)[] = [];
    const texts: string[] = [];
    const hashes: string[] = [];
    for (const l of leaves) {
      const text = canonicalJson(l.record);
      kinds.push(l.kind);
      ids.push(l.recordId);
      sellers.push(l.sellerOrgId);
      buyers.push(l.buyerOrgId);
      texts.push(text);
      hashes.push(`\\x${toHex(leafHash(text))}`);
    }
    await m.query(
      `INSERT INTO settlement_log_leaves (kind, record_id, seller_org_id, buyer_org_id, leaf, leaf_hash)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::bytea[])
       ON CONFLICT (kind, record_id) DO NOTHING`,
      [kinds, ids, sellers, buyers, texts, hashes],
    );
  }

  /** Appends the lease's debit notes not yet in the log (call after inserting one). */
  async appendDebitNotesOf(m: EntityManager, leaseId: string): Promise<void> {
    const rows: DebitNoteRow[] = await m.query(
      `SELECT d.id, d.kind, d.lease_id AS "leaseId", l.seller_org_id AS "sellerOrgId",
              l.buyer_org_id AS "buyerOrgId", d.currency, d.period_start AS "periodStart",
              d.period_end AS "periodEnd", d.lines, d.gross::text AS gross, d.fee::text AS fee,
              d.net::text AS net, d.created_at AS "createdAt"
       FROM debit_notes d JOIN leases l ON l.id = d.lease_id
       WHERE d.lease_id = $1 AND NOT EXISTS (
         SELECT 1 FROM settlement_log_leaves s WHERE s.kind = 'debit_note' AND s.record_id = d.id::text)
       ORDER BY d.period_start, d.kind`,
      [leaseId],
    );
    await this.append(
      m,
      rows.map((r) => debitNoteLeaf(this.secret, r)),
    );
  }

  /** Appends the given debit notes not yet in the log (the batched settlement run's). */
  async appendDebitNotes(m: EntityManager, debitNoteIds: readonly string[]): Promise<void> {
    if (debitNoteIds.length === 0) return;
    const rows: DebitNoteRow[] = await m.query(
      `SELECT d.id, d.kind, d.lease_id AS "leaseId", l.seller_org_id AS "sellerOrgId",
              l.buyer_org_id AS "buyerOrgId", d.currency, d.period_start AS "periodStart",
              d.period_end AS "periodEnd", d.lines, d.gross::text AS gross, d.fee::text AS fee,
              d.net::text AS net, d.created_at AS "createdAt"
       FROM debit_notes d JOIN leases l ON l.id = d.lease_id
       WHERE d.id = ANY($1::uuid[]) AND NOT EXISTS (
         SELECT 1 FROM settlement_log_leaves s WHERE s.kind = 'debit_note' AND s.record_id = d.id::text)
       ORDER BY d.lease_id, d.period_start, d.kind`,
      [debitNoteIds],
    );
    await this.append(
      m,
      rows.map((r) => debitNoteLeaf(this.secret, r)),
    );
  }

  /** Appends an issued invoice, and its SLA credit note when it carries one. */
  async appendInvoice(
    m: EntityManager,
    invoice: InvoiceRow & {
      sla: { sellerShare: string; platformShare: string; creditPercent: string } | null;
    },
  ): Promise<void> {
    const leaves = [invoiceLeaf(this.secret, invoice)];
    if (invoice.sla && Number(invoice.credits) > 0) {
      leaves.push(creditLeaf(this.secret, { ...invoice, sla: invoice.sla }));
    }
    await this.append(m, leaves);
  }

  /** Appends a booked payout (a `stripe_movements` row of kind payout), by its reference. */
  async appendPayout(m: EntityManager, reference: string): Promise<void> {
    const rows: PayoutRow[] = await m.query(
      `SELECT id, org_id AS "orgId", currency, amount::text AS amount, reference,
              created_at AS "createdAt"
       FROM stripe_movements WHERE reference = $1 AND kind = 'payout'`,
      [reference],
    );
    await this.append(
      m,
      rows.map((r) => payoutLeaf(this.secret, r)),
    );
  }

  /** Number of sequenced leaves. */
  async size(m: EntityManager = this.db.manager): Promise<number> {
    const [r]: { n: string }[] = await m.query(
      'SELECT coalesce(max(leaf_index) + 1, 0)::text AS n FROM settlement_log_leaves',
    );
    return Number(r.n);
  }

  /** Reads perfect subtree hashes (level 0 from the leaves) of the sequenced tree. */
  async readNodes(m: EntityManager, nodes: readonly PerfectNode[]): Promise<Map<string, Hash>> {
    const out = new Map<string, Hash>();
    if (nodes.length === 0) return out;
    const leafIdx = nodes.filter((n) => n.level === 0).map((n) => String(n.index));
    const upper = nodes.filter((n) => n.level > 0);
    const rows: { level: number; idx: string; hash: Buffer }[] = await m.query(
      `SELECT 0 AS level, leaf_index::text AS idx, leaf_hash AS hash
         FROM settlement_log_leaves WHERE leaf_index = ANY($1::bigint[])
       UNION ALL
       SELECT n.level, n.idx::text, n.hash FROM settlement_log_nodes n
         JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx)
           ON n.level = w.level AND n.idx = w.idx`,
      [leafIdx, upper.map((n) => n.level), upper.map((n) => String(n.index))],
    );
    for (const r of rows) out.set(`${r.level}:${r.idx}`, new Uint8Array(r.hash));
    for (const n of nodes) {
      if (!out.has(`${n.level}:${n.index}`)) {
        throw new Error(`settlement log: node ${n.level}:${n.index} missing`);
      }
    }
    return out;
  }

  private async rangesHashes(
    m: EntityManager,
    ranges: readonly { start: number; end: number }[],
  ): Promise<string[]> {
    const nodes = await this.readNodes(m, nodesFor(ranges));
    return ranges.map((r) =>
      toHex(rangeHash(r, (n) => nodes.get(`${n.level}:${n.index}`) as Hash)),
    );
  }

  /** Root hash of the first `size` leaves. */
  async rootAt(m: EntityManager, size: number): Promise<string> {
    const [h] = await this.rangesHashes(m, [{ start: 0, end: size }]);
    return h;
  }

  /**
   * Sequences pending leaves (at most `limit`): next indices in arrival order, every perfect
   * node they complete stored. Returns how many were sequenced. Safe to run concurrently.
   */
  async sequence(limit = this.config.batch): Promise<number> {
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
      const pending: { seq: string; hash: Buffer }[] = await m.query(
        `SELECT seq::text AS seq, leaf_hash AS hash FROM settlement_log_leaves
         WHERE leaf_index IS NULL ORDER BY seq LIMIT $1`,
        [limit],
      );
      if (pending.length === 0) return 0;
      const size = await this.size(m);
      const frontierNodes = MerkleFrontier.nodesOf(size);
      const read = await this.readNodes(m, frontierNodes);
      const tree = new MerkleFrontier(
        size,
        frontierNodes.map((n) => read.get(`${n.level}:${n.index}`) as Hash),
      );
      const levels: number[] = [];
      const idxs: string[] = [];
      const hashes: Buffer[] = [];
      for (const p of pending) {
        for (const made of tree.append(new Uint8Array(p.hash))) {
          if (made.level === 0) continue;
          levels.push(made.level);
          idxs.push(String(made.index));
          hashes.push(buf(made.hash));
        }
      }
      await m.query(
        `UPDATE settlement_log_leaves s SET leaf_index = v.idx
         FROM unnest($1::bigint[], $2::bigint[]) AS v(seq, idx) WHERE s.seq = v.seq`,
        [pending.map((p) => p.seq), pending.map((_, i) => String(size + i))],
      );
      if (levels.length > 0) {
        await m.query(
          `INSERT INTO settlement_log_nodes (level, idx, hash)
           SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
          [levels, idxs, hashes],
        );
      }
      return pending.length;
    });
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

  private jwk(): JWK {
    this.signingJwk ??= { ...(JSON.parse(this.appConfig.platformSigningJwk) as JWK), alg: 'EdDSA' };
    return this.signingJwk;
  }

  /**
   * Sequences pending leaves, then signs a checkpoint when the tree grew since the latest one
   * or the latest is older than `maxAgeMs`. Returns the latest checkpoint.
   */
  async checkpoint(maxAgeMs = this.config.checkpointMs): Promise<CheckpointView> {
    await this.sequenceAll();
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
      const size = await this.size(m);
      const latest = await m
        .getRepository(SettlementLogCheckpointEntity)
        .findOne({ where: {}, order: { id: 'DESC' } });
      const now = this.clock.now();
      if (
        latest &&
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
      const saved = await m.getRepository(SettlementLogCheckpointEntity).save({
        treeSize: String(size),
        rootHash,
        signedAt: now,
        kid: jwk.kid ?? '',
        jws,
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

  /** RFC 9162 inclusion proof of leaf `index` in the tree of `treeSize` leaves. */
  async inclusionProof(
    index: number,
    treeSize: number,
  ): Promise<{ leafIndex: number; treeSize: number; hashes: string[] }> {
    const size = await this.size();
    if (!(index >= 0 && index < treeSize && treeSize <= size)) {
      throw new DomainError(
        'validation_failed',
        'need 0 ≤ leafIndex < treeSize ≤ the log size',
        400,
        { leafIndex: index, treeSize, size },
      );
    }
    const hashes = await this.rangesHashes(this.db.manager, inclusionProofRanges(index, treeSize));
    return { leafIndex: index, treeSize, hashes };
  }

  /** RFC 9162 consistency proof between tree sizes `first` ≤ `second`. */
  async consistencyProof(
    first: number,
    second: number,
  ): Promise<{ first: number; second: number; hashes: string[] }> {
    const size = await this.size();
    if (!(first >= 0 && first <= second && second <= size)) {
      throw new DomainError('validation_failed', 'need 0 ≤ first ≤ second ≤ the log size', 400, {
        first,
        second,
        size,
      });
    }
    const hashes = await this.rangesHashes(this.db.manager, consistencyProofRanges(first, second));
    return { first, second, hashes };
  }

  /** The leaf of a record, if appended. */
  async leafOf(kind: SettlementLogKind, recordId: string): Promise<LeafView | null> {
    const rows: LeafRow[] = await this.db.query(
      `${LEAF_SELECT} WHERE kind = $1 AND record_id = $2`,
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
      `${LEAF_SELECT} WHERE seller_org_id = $1 AND ($2::text IS NULL OR kind = $2)
       ORDER BY seq DESC LIMIT $3`,
      [sellerOrgId, opts.kind ?? null, Math.min(opts.limit ?? 200, 1000)],
    );
    return rows.map(leafView);
  }

  /** Settlement records of the given sellers (for assessors; the caller bands amounts). */
  async recordsOfSellers(sellerOrgIds: string[], limit = 200): Promise<LeafView[]> {
    if (sellerOrgIds.length === 0) return [];
    const rows: LeafRow[] = await this.db.query(
      `${LEAF_SELECT} WHERE seller_org_id = ANY($1::uuid[]) ORDER BY seq DESC LIMIT $2`,
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

const LEAF_SELECT = `SELECT kind, record_id AS "recordId", leaf_index::text AS "leafIndex",
  leaf_hash AS "leafHash", leaf, created_at AS "createdAt" FROM settlement_log_leaves`;

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
  };
}
