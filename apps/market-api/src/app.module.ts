import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/app-config.js';
import { Clock } from './common/clock.js';
import { CoreModule } from './core.module.js';
import { ENTITIES } from './entities.js';
import { AccountsModule } from './accounts/accounts.module.js';
import { AgentsModule } from './agents/agents.module.js';
import { RegistryModule } from './registry/registry.module.js';
import { OffersModule } from './offers/offers.module.js';
import { OrdersModule } from './orders/orders.module.js';
import { HealthModule } from './health/health.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { SettlementModule } from './settlement/settlement.module.js';
import { PaymentsModule } from './payments/payments.module.js';
import { CredibilityModule } from './credibility/credibility.module.js';
import { LeaseEventsModule } from './leases/lease-events.module.js';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { UsageModule } from './usage/usage.module.js';
import { PrivacyModule } from './privacy/privacy.module.js';
import { SettlementLogModule } from './settlement-log/settlement-log.module.js';
import { StatisticsModule } from './statistics/statistics.module.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { AuditModule } from './audit/audit.module.js';
import { MetricsModule } from './observability/metrics.module.js';
import { MonitoringModule } from './monitoring/monitoring.module.js';
import { IdempotencyCommitSubscriber } from './idempotency/idempotency.interceptor.js';
import { FeesModule } from './fees/fees.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { FederationModule } from './federation/federation.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, clock: Clock): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, clock),
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.databaseUrl,
          entities: ENTITIES,
          synchronize: false,
          migrationsRun: false,
          poolSize: 10,
          // Fail fast and find dead peers after a PostgreSQL failover (broken clients are dropped).
          connectTimeoutMS: 5000,
          extra: { keepAlive: true },
          logging: ['error'],
          subscribers: [IdempotencyCommitSubscriber],
        }),
        LeaseEventsModule,
        ApiKeysModule,
        UsageModule,
        AccountsModule,
        RegistryModule,
        AgentsModule,
        OffersModule,
        LedgerModule,
        SettlementModule,
        PaymentsModule,
        OrdersModule,
        HealthModule,
        CredibilityModule,
        SettlementLogModule,
        PrivacyModule,
        StatisticsModule,
        OpenApiModule,
        AuditModule,
        MetricsModule,
        MonitoringModule,
        FeesModule,
        DeliveryModule,
        FederationModule.register(RegistryModule),
      ],
    };
  }
}
