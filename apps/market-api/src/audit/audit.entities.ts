import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A security-relevant action (log-in, key creation and revocation, role change, payouts, fee
 * changes…): who did it, to what, from where, when. Append-only.
 */
@Entity('audit_events')
@Index(['at'])
@Index(['action', 'at'])
@Index(['orgId', 'at'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'timestamptz' }) at!: Date;
  @Column({ type: 'text' }) action!: string;
  /** `succeeded` or `failed` (a refused log-in is worth recording too). */
  @Column({ type: 'text' }) outcome!: string;
  @Column({ name: 'actor_user_id', type: 'uuid', nullable: true }) actorUserId!: string | null;
  @Column({ name: 'actor_org_id', type: 'uuid', nullable: true }) actorOrgId!: string | null;
  @Column({ name: 'actor_key_id', type: 'uuid', nullable: true }) actorKeyId!: string | null;
  /** The organization the action concerns (the actor's own, or the one an operator acted on). */
  @Column({ name: 'org_id', type: 'uuid', nullable: true }) orgId!: string | null;
  @Column({ name: 'target_type', type: 'text', nullable: true }) targetType!: string | null;
  @Column({ name: 'target_id', type: 'text', nullable: true }) targetId!: string | null;
  @Column({ type: 'text', nullable: true }) ip!: string | null;
  @Column({ name: 'correlation_id', type: 'text', nullable: true }) correlationId!: string | null;
  @Column({ type: 'jsonb' }) details!: Record<string, unknown>;
}
