import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The market's transactional outbox for `exchange.lease.v1`: a row is written in the transaction
 * that changes the lease, and the relay publishes rows in id order and marks them.
 */
@Entity('lease_events_outbox')
@Index('IDX_lease_events_outbox_unpublished', ['id'], { where: '"published_at" IS NULL' })
export class LeaseEventOutboxEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id!: string;
  @Column({ name: 'event_id', type: 'uuid' }) eventId!: string;
  @Column({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true }) publishedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
