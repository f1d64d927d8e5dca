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
// Search: keyset order (created_at, id), alone and after the common equality filters, so that
// a filtered page is read in order from one index.
@Index('IDX_resources_created_id', ['createdAt', 'id'])
@Index('IDX_resources_registrant_created', ['registrant', 'createdAt', 'id'])
@Index('IDX_resources_class_created', ['computeClass', 'createdAt', 'id'])
@Index('IDX_resources_region_created', ['country', 'subdivision', 'createdAt', 'id'])
@Index('IDX_resources_accel', ['accelModel', 'accelCount'])
@Index('IDX_resources_location', ['country', 'subdivision', 'site'])
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
  // Search columns: the spec's tokens as plain columns, kept in step with `spec` by the registry.
  @Column({ type: 'int', nullable: true }) cpu!: number | null;
  @Column({ name: 'mem_gib', type: 'int', nullable: true }) memGiB!: number | null;
  @Column({ name: 'accel_model', type: 'text', nullable: true }) accelModel!: string | null;
  @Column({ name: 'accel_count', type: 'int', nullable: true }) accelCount!: number | null;
  /** How many slots the resource can lease out at once (offers sell at most this many). */
  @Column({ name: 'capacity_slots', type: 'int', default: 1 }) capacitySlots!: number;
  /** The current revision number of the code (1 at registration, +1 per code-changing edit). */
  @Column({ type: 'int', default: 1 }) revision!: number;
  @Column({ name: 'cpu_model', type: 'text', nullable: true }) cpuModel!: string | null;
  @Index() @Column({ type: 'text', default: 'prepared' }) state!: LifecycleState;
  @Index()
  @Column({ name: 'last_heartbeat_at', type: 'timestamptz', nullable: true })
  lastHeartbeatAt!: Date | null;
  /** The status the agent last reported (its own view: a degraded or offline beat). */
  @Column({ name: 'reported_status', type: 'text', nullable: true })
  reportedStatus!: 'online' | 'degraded' | 'offline' | null;
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true }) retiredAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/**
 * Every full CRI a resource has carried, one row per revision. The current one has
 * `supersededAt` null; older ones still resolve, as superseded, pointing to the resource.
 */
@Entity('resource_revisions')
@Index('UQ_resource_revisions_resource_revision', ['resourceId', 'revision'], { unique: true })
export class ResourceRevisionEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  @Column({ type: 'int' }) revision!: number;
  /** Not unique: a change back to earlier facts gives the earlier code again. */
  @Index() @Column({ type: 'text' }) cri!: string;
  /** The facts the code encoded: class, form, location, spec, industry. */
  @Column({ type: 'jsonb' }) facts!: Record<string, unknown>;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true })
  supersededAt!: Date | null;
}
