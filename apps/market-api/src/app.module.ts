import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/app-config.js';
import { Clock } from './common/clock.js';
import { CoreModule } from './core.module.js';
import { ENTITIES } from './database/entities.js';
import { AccountsController } from './accounts/accounts.controller.js';
import { AccountsService } from './accounts/accounts.service.js';
import { UsersRepository } from './accounts/users.repository.js';
import { RegistryController } from './registry/registry.controller.js';
import { RegistryService } from './registry/registry.service.js';
import { OffersController } from './offers/offers.controller.js';
import { OffersService } from './offers/offers.service.js';
import { DemandsController } from './offers/demands.controller.js';
import { DemandsService } from './offers/demands.service.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { HealthController } from './health/health.controller.js';
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
import { MetricsModule } from './metrics/metrics.module.js';
import { MonitoringModule } from './monitoring/monitoring.module.js';
import { IdempotencyCommitSubscriber } from './common/idempotency.interceptor.js';
import { FeesModule } from './fees/fees.module.js';

@Module({
  imports: [PrivacyModule],
  controllers: [AccountsController],
  providers: [AccountsService, UsersRepository],
  exports: [AccountsService],
})
export class AccountsModule {}

@Module({
  controllers: [RegistryController],
  providers: [RegistryService],
  exports: [RegistryService],
})
export class RegistryModule {}

@Module({
  imports: [RegistryModule],
  controllers: [OffersController, DemandsController],
  providers: [OffersService, DemandsService],
  exports: [OffersService],
})
export class OffersModule {}

@Module({
  imports: [RegistryModule, OffersModule, SettlementModule],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class OrdersModule {}

@Module({ controllers: [HealthController] })
export class HealthModule {}

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
      ],
    };
  }
}
