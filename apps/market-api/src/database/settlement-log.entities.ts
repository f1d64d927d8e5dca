import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/** What the settlement log holds: each kind of settlement record is appended once. */
export type SettlementLogKind = 'debit_note' | 'invoice' | 'payout' | 'credit';

/**
 * One leaf of the settlement log: the pseudonymized record as RFC 8785 canonical JSON and its
 * RFC 9162 leaf hash. Appended inside the transaction that creates the record; the sequencer
 * later gives leaves their indices in (tx, seq) order once every older writing transaction has
 * ended (docs/decisions.md, "Settlement log as tiles"). The row is never updated.
 */
@Entity('settlement_log_leaves')
@Unique('uq_settlement_log_record', ['kind', 'recordId'])
@Index('ix_settlement_log_order', ['tx', 'seq'])
@Index('ix_settlement_log_seller', ['sellerOrgId', 'seq'])
export class SettlementLogLeafEntity {
  @PrimaryColumn({ type: 'bigint', generatedIdentity: 'ALWAYS', generated: 'identity' })
  seq!: string;
  /** The appending transaction's id (`pg_current_xact_id()`); 0 and 1 for leaves of before tiles. */
  @Column({ type: 'bigint' }) tx!: string;
  @Column({ type: 'text' }) kind!: SettlementLogKind;
  @Column({ name: 'record_id', type: 'text' }) recordId!: string;
  /** Who may read the record (never part of the leaf itself). */
  @Column({ name: 'seller_org_id', type: 'uuid', nullable: true }) sellerOrgId!: string | null;
  @Column({ name: 'buyer_org_id', type: 'uuid', nullable: true }) buyerOrgId!: string | null;
  /** The leaf's bytes: canonical JSON of the pseudonymized record. */
  @Column({ type: 'text' }) leaf!: string;
  @Column({ name: 'leaf_hash', type: 'bytea' }) leafHash!: Buffer;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/**
 * A C2SP tlog-tiles tile: up to 256 hashes of tile level `level` (level 0: leaf hashes; level L:
 * hashes of 256^L leaves), index `idx` within the level. Full tiles never change; the rightmost
 * tile of a level grows until full (each stored prefix stays what it was).
 */
@Entity('settlement_log_tiles')
export class SettlementLogTileEntity {
  @PrimaryColumn({ type: 'smallint' }) level!: number;
  @PrimaryColumn({ type: 'bigint' }) idx!: string;
  @Column({ type: 'bytea' }) hashes!: Buffer;
}

/**
 * Which leaves level-0 tile `idx` holds: their `seq`s in index order (leaf index = idx × 256 +
 * position), and the range of those seqs, so that a leaf's index is found from its seq.
 */
@Entity('settlement_log_tile_leaves')
export class SettlementLogTileLeavesEntity {
  @PrimaryColumn({ type: 'bigint' }) idx!: string;
  @Column({ type: 'bigint', array: true }) seqs!: string[];
  @Index('ix_settlement_log_tile_leaves_range', { spatial: true })
  @Column({ name: 'seq_range', type: 'int8range' })
  seqRange!: string;
}

/** The sequencer's position: tree size and the (tx, seq) of the last leaf sequenced. */
@Entity('settlement_log_state')
export class SettlementLogStateEntity {
  @PrimaryColumn({ type: 'smallint' }) id!: number;
  @Column({ type: 'bigint' }) size!: string;
  @Column({ name: 'last_tx', type: 'bigint' }) lastTx!: string;
  @Column({ name: 'last_seq', type: 'bigint' }) lastSeq!: string;
}

/** A signed checkpoint of the log (tree size, root, time), kept as issued. */
@Entity('settlement_log_checkpoints')
export class SettlementLogCheckpointEntity {
  @PrimaryColumn({ type: 'bigint', generatedIdentity: 'ALWAYS', generated: 'identity' })
  id!: string;
  @Index() @Column({ name: 'tree_size', type: 'bigint' }) treeSize!: string;
  @Column({ name: 'root_hash', type: 'text' }) rootHash!: string;
  @Column({ name: 'signed_at', type: 'timestamptz' }) signedAt!: Date;
  @Column({ type: 'text' }) kid!: string;
  @Column({ type: 'text' }) jws!: string;
  /** The same checkpoint as a C2SP signed note (null for checkpoints signed before tiles). */
  @Column({ type: 'text', nullable: true }) note!: string | null;
}
