import {
  IdempotencyKeyEntity,
  OrganizationEntity,
  RefreshTokenEntity,
  UserEntity,
} from './accounts.entities.js';
import {
  AssessorAccreditationEntity,
  AssessorKeyEntity,
  CredibilityScoreEntity,
  CredibilityScoreHistoryEntity,
  DisputeEntity,
  EvaluationEntity,
  EvaluationMethodEntity,
} from './credibility.entities.js';
import {
  LeaseEntity,
  LeaseInterruptionEntity,
  OfferEntity,
  OrderEntity,
} from './market.entities.js';
import { ApiKeyEntity, ApiKeyUseEntity } from './api-keys.entities.js';
import { AuditEventEntity } from './audit.entities.js';
import { FeeScheduleEntity } from './fees.entities.js';
import { RateLimitBucketEntity } from './rate-limit.entities.js';
import {
  AgentBatchEntity,
  LeaseEventOutboxEntity,
  MeteringLeaseEntity,
  UsageDeadLetterEntity,
  UsageEventEntity,
  UsageHourEntity,
  UsageMinuteEntity,
} from './metering.entities.js';
import {
  OrgDataKeyEntity,
  OrgPersonalDataEntity,
  PersonalDataAccessEntity,
} from './privacy.entities.js';
import {
  SettlementLogCheckpointEntity,
  SettlementLogLeafEntity,
  SettlementLogStateEntity,
  SettlementLogTileEntity,
  SettlementLogTileLeavesEntity,
} from './settlement-log.entities.js';
import {
  AgentEntity,
  RegistrantEntity,
  ResourceEntity,
  ResourceHeartbeatEntity,
  ResourceRevisionEntity,
} from './registry.entities.js';
import {
  ConnectAccountEntity,
  DebitNoteEntity,
  InvoiceCounterEntity,
  InvoiceEntity,
  LeaseTermsEntity,
  LedgerAccountEntity,
  LedgerEntryEntity,
  LedgerTransactionEntity,
  StripeEventEntity,
  StripeMovementEntity,
  TopUpEntity,
} from './settlement.entities.js';

export * from './accounts.entities.js';
export * from './api-keys.entities.js';
export * from './audit.entities.js';
export * from './credibility.entities.js';
export * from './fees.entities.js';
export * from './market.entities.js';
export * from './metering.entities.js';
export * from './privacy.entities.js';
export * from './rate-limit.entities.js';
export * from './registry.entities.js';
export * from './settlement.entities.js';
export * from './settlement-log.entities.js';

/** Every entity of the exchange's schema; migrations are generated from these. */
export const ENTITIES = [
  OrganizationEntity,
  UserEntity,
  RefreshTokenEntity,
  IdempotencyKeyEntity,
  RegistrantEntity,
  ResourceEntity,
  AgentEntity,
  ResourceHeartbeatEntity,
  ResourceRevisionEntity,
  OfferEntity,
  OrderEntity,
  LeaseEntity,
  LeaseInterruptionEntity,
  LedgerAccountEntity,
  LedgerTransactionEntity,
  LedgerEntryEntity,
  DebitNoteEntity,
  InvoiceEntity,
  InvoiceCounterEntity,
  LeaseTermsEntity,
  StripeEventEntity,
  TopUpEntity,
  ConnectAccountEntity,
  StripeMovementEntity,
  UsageEventEntity,
  AgentBatchEntity,
  UsageMinuteEntity,
  UsageHourEntity,
  UsageDeadLetterEntity,
  MeteringLeaseEntity,
  LeaseEventOutboxEntity,
  ApiKeyEntity,
  ApiKeyUseEntity,
  AuditEventEntity,
  AssessorKeyEntity,
  AssessorAccreditationEntity,
  EvaluationMethodEntity,
  EvaluationEntity,
  DisputeEntity,
  CredibilityScoreEntity,
  CredibilityScoreHistoryEntity,
  FeeScheduleEntity,
  RateLimitBucketEntity,
  SettlementLogLeafEntity,
  SettlementLogTileEntity,
  SettlementLogTileLeavesEntity,
  SettlementLogStateEntity,
  SettlementLogCheckpointEntity,
  OrgDataKeyEntity,
  OrgPersonalDataEntity,
  PersonalDataAccessEntity,
];
