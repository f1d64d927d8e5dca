import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { LifecycleState, ResourceSpec } from '@suanli/contracts';

/** The registrant code the platform issued to an organization, and its serial counter. */
@Entity('registrants')
export class RegistrantEntity {
  @PrimaryColumn({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Index({ unique: true }) @Column({ type: 'text' }) code!: string;
  @Column({ name: 'next_serial', type: 'int', default: 1 }) nextSerial!: number;
}

@Entity('resources')
export class ResourceEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index({ unique: true }) @Column({ type: 'text' }) handle!: string;
  @Index({ unique: true }) @Column({ type: 'text' }) cri!: string;
  @Column({ type: 'text' }) name!: string;
  @Index() @Column({ name: 'owner_org_id', type: 'uuid' }) ownerOrgId!: string;
  @Column({ type: 'text' }) registrant!: string;
  @Column({ type: 'text' }) serial!: string;
  @Column({ type: 'char', length: 1 }) industry!: string;
  @Column({ name: 'class', type: 'text' }) computeClass!: 'GEN' | 'AI' | 'HPC';
  @Column({ type: 'text' }) form!: 'BM' | 'VM' | 'CTR' | 'API' | 'JOB';
  @Column({ type: 'text' }) country!: string;
  @Column({ type: 'text' }) subdivision!: string;
  @Column({ type: 'text' }) site!: string;
  @Column({ type: 'jsonb' }) spec!: ResourceSpec;
  @Column({ name: 'cpu_model', type: 'text', nullable: true }) cpuModel!: string | null;
  @Column({ type: 'text', default: 'prepared' }) state!: LifecycleState;
  @Column({ name: 'last_heartbeat_at', type: 'timestamptz', nullable: true })
  lastHeartbeatAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

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
