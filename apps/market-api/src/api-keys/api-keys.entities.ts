import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An organization's API key (`sk_…`): shown once at creation, stored as its SHA-256 only.
 * `prefix` (the first characters) lets people tell their keys apart.
 */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) prefix!: string;
  @Index({ unique: true }) @Column({ name: 'secret_hash', type: 'text' }) secretHash!: string;
  @Column({ type: 'text', array: true }) scopes!: string[];
  @Column({ name: 'created_by', type: 'uuid' }) createdBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt!: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
}

/** One authenticated use of an API key: when, from where, for what. */
@Entity('api_key_uses')
@Index(['keyId', 'usedAt'])
export class ApiKeyUseEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id!: string;
  @Column({ name: 'key_id', type: 'uuid' }) keyId!: string;
  @Column({ name: 'used_at', type: 'timestamptz' }) usedAt!: Date;
  @Column({ type: 'text' }) method!: string;
  @Column({ type: 'text' }) path!: string;
  @Column({ type: 'text', nullable: true }) ip!: string | null;
}
