import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A metering agent enrolled for a resource, with the public key its batches are signed with. */
@Entity('agents')
export class AgentEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Index() @Column({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  @Column({ type: 'text' }) kid!: string;
  @Column({ name: 'public_jwk', type: 'jsonb' }) publicJwk!: Record<string, unknown>;
  @Column({ name: 'last_seq', type: 'bigint', nullable: true }) lastSeq!: string | null;
  @Column({ name: 'last_hash', type: 'text', nullable: true }) lastHash!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
}

/**
 * Agent heartbeats, kept as history: live status comes from the latest, SLA availability and
 * credibility telemetry from the series (a minute is available when it has an `online` beat).
 */
@Entity('resource_heartbeats')
export class ResourceHeartbeatEntity {
  @PrimaryColumn({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  @PrimaryColumn({ type: 'timestamptz' }) at!: Date;
  @Column({ name: 'agent_id', type: 'text' }) agentId!: string;
  @Column({ type: 'text' }) status!: 'online' | 'degraded' | 'offline';
  /** Fraction of capacity in use, 0..1, as the agent reports it. */
  @Column({ type: 'numeric', precision: 10, scale: 6, nullable: true }) utilization!: string | null;
}
