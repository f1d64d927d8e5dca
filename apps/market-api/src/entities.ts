import {
  LoginThrottleEntity,
  OrganizationEntity,
  RefreshTokenEntity,
  UserEntity,
} from './database/accounts.entities.js';
import { IdempotencyKeyEntity } from './idempotency/idempotency.entities.js';
import {
  AssessorAccreditationEntity,
  AssessorKeyEntity,
  CredibilityScoreEntity,
  CredibilityScoreHistoryEntity,
  DisputeEntity,
  EvaluationEntity,
  EvaluationMethodEntity,
} from './credibility/credibility.entities.js';
import {
  LeaseEntity,
  LeaseInterruptionEntity,
  OfferEntity,
  OrderEntity,
} from './database/market.entities.js';
import { ApiKeyEntity, ApiKeyUseEntity } from './api-keys/api-keys.entities.js';
import { AuditEventEntity } from './audit/audit.entities.js';
import { FeeScheduleEntity } from './fees/fees.entities.js';
import { RateLimitBucketEntity } from './security/rate-limit.entities.js';
import { LeaseEventOutboxEntity } from './leases/lease-events.entities.js';
import {
  AgentBatchEntity,
  MeteringLeaseEntity,
  UsageDeadLetterEntity,
  UsageEventEntity,
  UsageHourEntity,
  UsageMinuteEntity,
} from './usage/metering.entities.js';
import {
  OrgDataKeyEntity,
  OrgPersonalDataEntity,
  PersonalDataAccessEntity,
} from './privacy/privacy.entities.js';
import {
  SettlementLogCheckpointEntity,
  SettlementLogLeafEntity,
  SettlementLogStateEntity,
  SettlementLogTileEntity,
  SettlementLogTileLeavesEntity,
} from './database/settlement-log.entities.js';
import { AgentEntity, ResourceHeartbeatEntity } from './agents/agents.entities.js';
import {
  RegistrantEntity,
  ResourceEntity,
  ResourceRevisionEntity,
} from './database/registry.entities.js';
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
} from './database/settlement.entities.js';
import { FEDERATION_ENTITIES } from './federation/federation.entities.js';

import {
  LeaseDeliveryEntity,
  LeaseDeliveryEventEntity,
  ResourceDeliveryEntity,
  SshKeyEntity,
} from './delivery/delivery.entities.js';

/**
 * Every entity of the exchange's schema, each declared by the feature that owns its table;
 * TypeORM and the migration generator take them from here (the composition root).
 */
export const ENTITIES = [
  OrganizationEntity,
  UserEntity,
  RefreshTokenEntity,
  LoginThrottleEntity,
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
  ResourceDeliveryEntity,
  LeaseDeliveryEntity,
  LeaseDeliveryEventEntity,
  SshKeyEntity,
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
  ...FEDERATION_ENTITIES,
];
