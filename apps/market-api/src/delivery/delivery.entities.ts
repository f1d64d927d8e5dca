import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { DeliveryStep } from '@suanli/contracts';

/**
 * What a resource's agent can deliver, as its provisioners' probes found them (docs/delivery.md).
 * A resource with a row whose `forms` hold its form delivers its leases through the agent: they
 * start `pending` and bill from the grant. Without one, the seller delivers outside the exchange
 * and leases start `active` at the order.
 */
@Entity('resource_delivery')
export class ResourceDeliveryEntity {
  @PrimaryColumn({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  /** Forms some provisioner whose probe passed serves. */
  @Column({ type: 'text', array: true }) forms!: string[];
  /** Every provisioner with its probe result (name, ok, forms, detail). */
  @Column({ type: 'jsonb' }) provisioners!: Record<string, unknown>[];
  @Column({ name: 'reported_at', type: 'timestamptz' }) reportedAt!: Date;
}

/**
 * A lease delivered by its resource's agent. `version` takes a new value of the sequence
 * `lease_delivery_version` whenever the lease's desired host state (active, suspended, ended)
 * changes: a trigger on `leases` does it, so every path that changes a lease's state (orders,
 * settlement, the bid scheduler) wakes the control channel without knowing of it.
 */
@Entity('lease_deliveries')
export class LeaseDeliveryEntity {
  @PrimaryColumn({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Index() @Column({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  @Column({ type: 'text' }) form!: string;
  @Column({ type: 'bigint' }) version!: string;
  /** Access not reported by then ends the lease as `provisioning_failed`. */
  @Index() @Column({ name: 'provision_by', type: 'timestamptz' }) provisionBy!: Date;
  /** The grant's access, JSON encrypted under the buyer organization's data key. */
  @Column({ type: 'text', nullable: true }) access!: string | null;
  @Column({ name: 'granted_at', type: 'timestamptz', nullable: true }) grantedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** Every delivery step of a lease, once per desired-state version (repeats are no-ops). */
@Entity('lease_delivery_events')
@Index('UQ_lease_delivery_events_step', ['leaseId', 'step', 'version'], { unique: true })
export class LeaseDeliveryEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Column({ type: 'text' }) step!: DeliveryStep;
  @Column({ type: 'bigint' }) version!: string;
  @Column({ type: 'timestamptz' }) at!: Date;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
}

/** A buyer organization's SSH public keys (validated by parseSshPublicKey). */
@Entity('ssh_keys')
@Index('UQ_ssh_keys_org_fingerprint', ['orgId', 'fingerprint'], { unique: true })
export class SshKeyEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'public_key', type: 'text' }) publicKey!: string;
  @Column({ type: 'text' }) fingerprint!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
