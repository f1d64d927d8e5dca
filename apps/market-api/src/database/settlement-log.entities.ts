import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/** What the settlement log holds: each kind of settlement record is appended once. */
export type SettlementLogKind = 'debit_note' | 'invoice' | 'payout' | 'credit';

/**
 * One leaf of the settlement log: the pseudonymized record as RFC 8785 canonical JSON and its
 * RFC 9162 leaf hash. Appended inside the transaction that creates the record (`leaf_index`
 * null); the sequencer then gives it the next index, in arrival order.
 */
@Entity('settlement_log_leaves')
@Unique('uq_settlement_log_record', ['kind', 'recordId'])
@Index('ix_settlement_log_pending', ['seq'], { where: '"leaf_index" IS NULL' })
export class SettlementLogLeafEntity {
  @PrimaryColumn({ type: 'bigint', generatedIdentity: 'ALWAYS', generated: 'identity' })
  seq!: string;
  /** Position in the tree; null until sequenced. Dense from 0. */
  @Index('uq_settlement_log_leaf_index', { unique: true })
  @Column({ name: 'leaf_index', type: 'bigint', nullable: true })
  leafIndex!: string | null;
  @Column({ type: 'text' }) kind!: SettlementLogKind;
  @Column({ name: 'record_id', type: 'text' }) recordId!: string;
  /** Who may read the record (never part of the leaf itself). */
  @Index() @Column({ name: 'seller_org_id', type: 'uuid', nullable: true }) sellerOrgId!:
    string | null;
  @Index() @Column({ name: 'buyer_org_id', type: 'uuid', nullable: true }) buyerOrgId!:
    string | null;
  /** The leaf's bytes: canonical JSON of the pseudonymized record. */
  @Column({ type: 'text' }) leaf!: string;
  @Column({ name: 'leaf_hash', type: 'bytea' }) leafHash!: Buffer;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** A perfect subtree of 2^level leaves (level ≥ 1; level 0 are the leaves' hashes). */
@Entity('settlement_log_nodes')
export class SettlementLogNodeEntity {
  @PrimaryColumn({ type: 'smallint' }) level!: number;
  @PrimaryColumn({ type: 'bigint' }) idx!: string;
  @Column({ type: 'bytea' }) hash!: Buffer;
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
}
