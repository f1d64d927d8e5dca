import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Role } from '@suanli/contracts';

@Entity('organizations')
export class OrganizationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', array: true }) roles!: Role[];
  /** GB/T 4754-2017 section letter. */
  @Column({ type: 'char', length: 1 }) industry!: string;
  /** Set by erasure: from then on no token, key or session of the organization is accepted. */
  @Column({ name: 'erased_at', type: 'timestamptz', nullable: true }) erasedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/**
 * A member of an organization. Its e-mail and display name are personal data: stored only
 * encrypted under the organization's data key (see privacy/), found by the e-mail's blind index.
 */
@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** HMAC-SHA256(EMAIL_INDEX_KEY, normalized e-mail), hex; unique; null once erased. */
  @Index({ unique: true })
  @Column({ name: 'email_index', type: 'text', nullable: true })
  emailIndex!: string | null;
  /** The login e-mail, AES-256-GCM under the organization's data key (`v<version>.…`). */
  @Column({ name: 'email_enc', type: 'text', nullable: true }) emailEnc!: string | null;
  @Column({ name: 'display_name_enc', type: 'text', nullable: true })
  displayNameEnc!: string | null;
  /**
   * Plaintext of rows created before field encryption: the start-up backfill encrypts and
   * empties them (it needs the keys, which only the app has); to be dropped once it has run.
   */
  @Column({ name: 'email', type: 'text', nullable: true, select: false })
  legacyEmail!: string | null;
  @Column({ name: 'display_name', type: 'text', nullable: true, select: false })
  legacyDisplayName!: string | null;
  @Column({ name: 'password_hash', type: 'text' }) passwordHash!: string;
  @Index() @Column({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('refresh_tokens')
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Index({ unique: true }) @Column({ name: 'token_hash', type: 'text' }) tokenHash!: string;
  /** Every token rotated from one log-in shares its family: a replayed one revokes them all. */
  @Index() @Column({ name: 'family_id', type: 'uuid' }) familyId!: string;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/**
 * Failed log-ins per account (keyed by an HMAC of the e-mail, whether or not it has an account,
 * so a refusal tells nothing): consecutive failures and the time before which the next attempt
 * is refused (docs/security.md, "Log-in abuse").
 */
@Entity('login_throttles')
export class LoginThrottleEntity {
  @PrimaryColumn({ name: 'key', type: 'text' }) key!: string;
  @Column({ name: 'failures', type: 'int' }) failures!: number;
  @Column({ name: 'blocked_until', type: 'timestamptz', nullable: true })
  blockedUntil!: Date | null;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
