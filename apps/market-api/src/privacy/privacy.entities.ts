import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';

/**
 * An organization's data key (AES-256), wrapped (AES-256-GCM) by a master key from
 * configuration. `wrapped_key` null = shredded: everything encrypted under it is unreadable.
 */
@Entity('org_data_keys')
export class OrgDataKeyEntity {
  @PrimaryColumn({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @PrimaryColumn({ type: 'int' }) version!: number;
  /** Id of the master key that wraps it (for master-key rotation). */
  @Column({ name: 'master_key_id', type: 'text' }) masterKeyId!: string;
  @Column({ name: 'wrapped_key', type: 'text', nullable: true }) wrappedKey!: string | null;
  @Column({ type: 'boolean', default: true }) active!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'shredded_at', type: 'timestamptz', nullable: true }) shreddedAt!: Date | null;
}

/** Personal and billing data of an organization, each field encrypted on its own. */
@Entity('org_personal_data')
export class OrgPersonalDataEntity {
  @PrimaryColumn({ name: 'org_id', type: 'uuid' }) orgId!: string;
  /** `{ field: "v<key version>.<iv>.<ciphertext+tag>" }` (base64url); never plaintext. */
  @Column({ type: 'jsonb' }) fields!: Record<string, string>;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Every read of another party's personal data by an operator. */
@Entity('personal_data_access_log')
export class PersonalDataAccessEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'subject_org_id', type: 'uuid' }) subjectOrgId!: string;
  @Column({ name: 'reader_user_id', type: 'uuid' }) readerUserId!: string;
  @Column({ name: 'reader_org_id', type: 'uuid' }) readerOrgId!: string;
  @Column({ type: 'text', array: true }) fields!: string[];
  @Column({ type: 'text' }) purpose!: string;
  @Column({ type: 'text' }) outcome!: 'read' | 'shredded' | 'empty';
  @Column({ type: 'timestamptz' }) at!: Date;
}
