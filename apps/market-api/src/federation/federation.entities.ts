import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A platform the national operator admitted (docs/federation.md, "Platforms and the directory"):
 * `admitted` until its join request proves possession of an admitted key, then `active`;
 * `suspended` and `removed` by the operator. Only the national platform has rows.
 */
@Entity('federation_platforms')
export class FederationPlatformEntity {
  @PrimaryColumn({ type: 'text' }) code!: string;
  @Column({ type: 'text' }) level!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) url!: string;
  /** `admitted`, `active`, `suspended` or `removed`. */
  @Column({ type: 'text' }) state!: string;
  /** RFC 7638 thumbprints the operator admitted (out of band). */
  @Column({ name: 'admitted_thumbprints', type: 'text', array: true })
  admittedThumbprints!: string[];
  /** The public keys the platform proved, those of them the operator admitted. */
  @Column({ type: 'jsonb' }) keys!: Record<string, unknown>[];
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/**
 * Signed directories: `published` (the national platform's current one, serial increasing) and
 * `cached` (the last verified one a member fetched; kept when a newer fetch is refused).
 */
@Entity('federation_directories')
export class FederationDirectoryEntity {
  @PrimaryColumn({ type: 'text' }) role!: string;
  @Column({ type: 'bigint' }) serial!: string;
  @Column({ type: 'text' }) jws!: string;
  @Column({ name: 'exp', type: 'timestamptz' }) exp!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** `jti`s of accepted client assertions, kept until they expire: a second use is a replay. */
@Entity('federation_assertion_jtis')
@Index(['expiresAt'])
export class FederationAssertionJtiEntity {
  @PrimaryColumn({ type: 'text' }) jti!: string;
  @Column({ type: 'text' }) iss!: string;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
}

/** The owners' signed resolution records this platform forwarded, for `stale` answers. */
@Entity('federation_resolution_cache')
export class FederationResolutionCacheEntity {
  @PrimaryColumn({ type: 'text' }) code!: string;
  @Column({ type: 'text' }) authority!: string;
  /** The owner's signed record (JWS), returned unchanged. */
  @Column({ type: 'text' }) record!: string;
  @Column({ name: 'fetched_at', type: 'timestamptz' }) fetchedAt!: Date;
}

/**
 * The national platform's last verified status report of each platform (docs/federation.md,
 * "5. National monitoring"): the JWS as sent, its payload, when it was issued and received, and
 * when the platform was last alerted on as not reporting (null while it reports).
 */
@Entity('federation_status_reports')
export class FederationStatusReportEntity {
  @PrimaryColumn({ type: 'text' }) platform!: string;
  @Column({ type: 'text' }) report!: string;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  @Column({ name: 'reported_at', type: 'timestamptz' }) reportedAt!: Date;
  @Column({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
  @Column({ name: 'alerted_at', type: 'timestamptz', nullable: true }) alertedAt!: Date | null;
}

export const FEDERATION_ENTITIES = [
  FederationPlatformEntity,
  FederationDirectoryEntity,
  FederationAssertionJtiEntity,
  FederationResolutionCacheEntity,
  FederationStatusReportEntity,
];
