import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { NUMERIC } from '../common/columns.js';

// These tables are written by the metering ingest (apps/metering, plain SQL on the hot path)
// and read by market-api; the entities exist so that migrations and reads share one schema.

/**
 * The dedupe ledger: one row per applied usage event, `(source, event_id)` its identity for ever;
 * which lease and minute it counted for, and the signed batch (the agent's `seq`, whose hash is in
 * `agent_batches`) it came in. Its quantities are in the aggregates (`usage_minutes`, one row per
 * lease and minute, and `usage_hours`): kept out of this row, the hottest write of the ingest
 * (docs/decisions.md, "Metering ingest throughput").
 */
@Entity('usage_events')
export class UsageEventEntity {
  @PrimaryColumn({ type: 'text' }) source!: string;
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Column({ name: 'window_start', type: 'timestamptz' }) windowStart!: Date;
  @Column({ type: 'boolean', default: true }) signed!: boolean;
  @Column({ name: 'batch_seq', type: 'bigint', nullable: true }) batchSeq!: string | null;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
  /**
   * The unit catalog version the exchange computed the event's units with, when an unsigned
   * event came without units (`POST /v1/usage/events`); NULL when the sender's own units were
   * checked (every signed event).
   */
  @Column({ name: 'rated_catalog', type: 'text', nullable: true }) ratedCatalog!: string | null;
}

/** Each agent's batches by sequence number: detects a repeated seq with other content. */
@Entity('agent_batches')
export class AgentBatchEntity {
  @PrimaryColumn({ name: 'agent_id', type: 'text' }) agentId!: string;
  @PrimaryColumn({ type: 'bigint' }) seq!: string;
  @Column({ type: 'text' }) hash!: string;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
}

/**
 * Per lease and minute (the minute the event's window starts in), the sum of each standard unit:
 * one column per unit of the catalog (`UNIT_COLUMNS` in @suanli/units), NULL when no event of
 * that minute reported the unit. One row per lease-minute rather than one per unit: a third of
 * the rows on the ingest's hottest write.
 */
@Entity('usage_minutes')
export class UsageMinuteEntity {
  @PrimaryColumn({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @PrimaryColumn({ type: 'timestamptz' }) bucket!: Date;
  @Column({ ...NUMERIC, name: 'scu_ai', nullable: true }) scuAi!: string | null;
  @Column({ ...NUMERIC, name: 'scu_hpc', nullable: true }) scuHpc!: string | null;
  @Column({ ...NUMERIC, name: 'scu_gen', nullable: true }) scuGen!: string | null;
  @Column({ ...NUMERIC, name: 'mem_gib_h', nullable: true }) memGibH!: string | null;
  @Column({ ...NUMERIC, name: 'sto_gib_h', nullable: true }) stoGibH!: string | null;
  @Column({ ...NUMERIC, name: 'net_egress_gib', nullable: true }) netEgressGib!: string | null;
  @Column({ ...NUMERIC, name: 'api_call', nullable: true }) apiCall!: string | null;
  // The capacity rule's state (docs/decisions.md, "Usage never exceeds what the lease can
  // deliver"), written by the ingest: the milliseconds of the minute that accepted usage windows
  // cover (offsets, flat `[start, end)` pairs) and the sum of those events' shares of the minute
  // per metered quantity (exact: unconstrained numeric). A minute a window covers without
  // starting in it has a row with no units. NULL: no state (a minute applied before the rule).
  @Column({ type: 'int', array: true, nullable: true }) covered!: number[] | null;
  @Column({ name: 'cpu_core_s', type: 'numeric', nullable: true }) cpuCoreS!: string | null;
  @Column({ name: 'mem_gib_s', type: 'numeric', nullable: true }) memGibS!: string | null;
  @Column({ name: 'acc_s', type: 'numeric', nullable: true }) accS!: string | null;
  @Column({ name: 'sto_gib_s', type: 'numeric', nullable: true }) stoGibS!: string | null;
  @Column({ name: 'egress_bytes', type: 'numeric', nullable: true }) egressBytes!: string | null;
}

@Entity('usage_hours')
export class UsageHourEntity {
  @PrimaryColumn({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @PrimaryColumn({ type: 'text' }) unit!: string;
  @PrimaryColumn({ type: 'timestamptz' }) bucket!: Date;
  @Column({ ...NUMERIC }) quantity!: string;
}

@Entity('usage_dead_letters')
/** The ingest's outbox scan: dead letters not yet published to the DLQ topic. */
@Index('IDX_usage_dead_letters_unpublished', ['id'], { where: '"published_at" IS NULL' })
export class UsageDeadLetterEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id!: string;
  @Index() @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'text' }) detail!: string;
  @Index() @Column({ name: 'agent_id', type: 'text', nullable: true }) agentId!: string | null;
  @Column({ type: 'bigint', nullable: true }) seq!: string | null;
  @Column({ name: 'event_id', type: 'text', nullable: true }) eventId!: string | null;
  @Index() @Column({ name: 'lease_id', type: 'uuid', nullable: true }) leaseId!: string | null;
  @Column({ type: 'jsonb', nullable: true }) event!: unknown;
  @Column({ type: 'text', nullable: true }) raw!: string | null;
  /**
   * Makes a dead letter idempotent under Kafka redelivery: the ingest derives it from the message
   * (SHA-256 of its value) and the event's position, so a replayed message adds no second row.
   */
  @Index({ unique: true })
  @Column({ name: 'dedupe_key', type: 'text', nullable: true })
  dedupeKey!: string | null;
  /** When the ingest published the row to the DLQ topic (outbox); null until then. */
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true }) publishedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/**
 * The metering ingest's own read model of leases, built from `exchange.lease.v1` (the market's
 * lease events): the ingest validates usage against it and never reads the market's tables.
 */
@Entity('metering_leases')
export class MeteringLeaseEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Index() @Column({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  @Column({ name: 'seller_org_id', type: 'uuid' }) sellerOrgId!: string;
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text' }) cri!: string;
  @Column({ type: 'text' }) class!: string;
  @Column({ type: 'jsonb' }) spec!: Record<string, unknown>;
  @Column({ name: 'cpu_model', type: 'text', nullable: true }) cpuModel!: string | null;
  @Column({ type: 'int' }) slots!: number;
  @Column({ name: 'starts_at', type: 'timestamptz' }) startsAt!: Date;
  @Column({ name: 'ends_at', type: 'timestamptz' }) endsAt!: Date;
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true }) endedAt!: Date | null;
  @Column({ name: 'invoiced_at', type: 'timestamptz', nullable: true }) invoicedAt!: Date | null;
  @Column({ name: 'catalog_version', type: 'text' }) catalogVersion!: string;
  @Column({ name: 'accepts_unsigned', type: 'boolean', default: false }) acceptsUnsigned!: boolean;
  /** `occurredAt` of the last applied lease event: an older event never overwrites a newer. */
  @Column({ name: 'event_at', type: 'timestamptz' }) eventAt!: Date;
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
  /** The lease's originating correlation id (the order request's), for the ingest's log lines. */
  @Column({ name: 'correlation_id', type: 'text', nullable: true }) correlationId!: string | null;
}
