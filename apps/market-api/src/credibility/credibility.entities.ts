import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type {
  CredibilityBreakdown,
  CredibilityContribution,
  EvaluationPayload,
} from '@suanli/contracts';

/** A public key an assessor signs evaluations with (its JWKS is the active ones). */
@Entity('assessor_keys')
@Index(['orgId', 'kid'], { unique: true })
export class AssessorKeyEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Column({ type: 'text' }) kid!: string;
  @Column({ name: 'public_jwk', type: 'jsonb' }) publicJwk!: Record<string, unknown>;
  @Column({ type: 'text', default: 'active' }) status!: 'active' | 'retired';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true }) retiredAt!: Date | null;
}

/** The accreditation level (1..3) the operator gave an assessor; absent means level 1. */
@Entity('assessor_accreditations')
export class AssessorAccreditationEntity {
  @PrimaryColumn({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Column({ type: 'int' }) level!: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Registered evaluation methods and how many observations one evaluation is worth. */
@Entity('evaluation_methods')
export class EvaluationMethodEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) description!: string;
  @Column({ type: 'int' }) observations!: number;
}

/** A signed evaluation, stored exactly as received; revoked and expired ones stay as history. */
@Entity('evaluations')
@Index(['assessorOrgId', 'jti'], { unique: true })
@Index(['subjectType', 'subjectId'])
export class EvaluationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'assessor_org_id', type: 'uuid' }) assessorOrgId!: string;
  @Column({ type: 'text' }) jti!: string;
  @Column({ type: 'text' }) kid!: string;
  @Column({ name: 'subject_type', type: 'text' }) subjectType!: 'resource' | 'seller';
  @Column({ name: 'subject_id', type: 'uuid' }) subjectId!: string;
  /** The seller the subject belongs to (the subject itself for a seller evaluation). */
  @Index() @Column({ name: 'seller_org_id', type: 'uuid' }) sellerOrgId!: string;
  @Column({ name: 'subject_ref', type: 'text' }) subjectRef!: string;
  @Column({ type: 'text' }) method!: string;
  @Column({ type: 'jsonb' }) payload!: EvaluationPayload;
  @Column({ type: 'text' }) jws!: string;
  @Column({ name: 'issued_at', type: 'timestamptz' }) issuedAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @Column({ name: 'revoke_reason', type: 'text', nullable: true }) revokeReason!: string | null;
}

/** A usage dispute the operator decided; upheld ones count against the seller. */
@Entity('credibility_disputes')
export class DisputeEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'seller_org_id', type: 'uuid' }) sellerOrgId!: string;
  @Index() @Column({ name: 'resource_id', type: 'uuid', nullable: true }) resourceId!:
    string | null;
  @Column({ name: 'lease_id', type: 'uuid', nullable: true }) leaseId!: string | null;
  @Column({ type: 'text' }) outcome!: 'upheld' | 'rejected';
  @Column({ type: 'text', nullable: true }) note!: string | null;
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
}

/** The current score of a resource or seller, with the evidence it was computed from. */
@Entity('credibility_scores')
@Index(['subjectType', 'score'])
export class CredibilityScoreEntity {
  @PrimaryColumn({ name: 'subject_type', type: 'text' }) subjectType!: 'resource' | 'seller';
  @PrimaryColumn({ name: 'subject_id', type: 'uuid' }) subjectId!: string;
  @Column({ type: 'double precision' }) score!: number;
  @Column({ type: 'double precision' }) confidence!: number;
  @Column({ type: 'double precision' }) r!: number;
  @Column({ type: 'double precision' }) s!: number;
  @Column({ name: 'formula_version', type: 'text' }) formulaVersion!: string;
  @Column({ name: 'computed_at', type: 'timestamptz' }) computedAt!: Date;
  @Column({ type: 'jsonb' }) breakdown!: CredibilityBreakdown[];
  @Column({ type: 'jsonb' }) contributions!: CredibilityContribution[];
  /** Everything the score was computed from (see GET …/evidence). */
  @Column({ type: 'jsonb' }) evidence!: Record<string, unknown>;
}

/** Every score ever computed, for the history chart. */
@Entity('credibility_score_history')
@Index(['subjectType', 'subjectId', 'computedAt'])
export class CredibilityScoreHistoryEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'subject_type', type: 'text' }) subjectType!: 'resource' | 'seller';
  @Column({ name: 'subject_id', type: 'uuid' }) subjectId!: string;
  @Column({ type: 'double precision' }) score!: number;
  @Column({ type: 'double precision' }) confidence!: number;
  @Column({ name: 'formula_version', type: 'text' }) formulaVersion!: string;
  @Column({ name: 'computed_at', type: 'timestamptz' }) computedAt!: Date;
}
