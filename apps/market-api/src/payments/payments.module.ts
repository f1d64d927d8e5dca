import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { MoneyEventsModule } from '../events/money-events.js';
import { PaymentsConfig } from './payments.config.js';
import { PaymentsController } from './payments.controller.js';
import { OperatorCreditsService } from './operator-credits.service.js';
import { PayoutScheduler } from './payout.scheduler.js';
import { PayoutsService } from './payouts.service.js';
import { ReconciliationService } from './reconciliation.service.js';
import { createStripe, StripeGateway } from './stripe.client.js';
import { TopUpsService } from './top-ups.service.js';

@Module({
  imports: [AuditModule, LedgerModule, MoneyEventsModule],
  controllers: [PaymentsController],
  providers: [
    { provide: PaymentsConfig, useFactory: () => PaymentsConfig.fromEnv(process.env) },
    {
      provide: StripeGateway,
      useFactory: (config: PaymentsConfig): StripeGateway => ({ stripe: createStripe(config) }),
      inject: [PaymentsConfig],
    },
    TopUpsService,
    OperatorCreditsService,
    PayoutsService,
    ReconciliationService,
    PayoutScheduler,
  ],
  exports: [TopUpsService, PayoutsService],
})
export class PaymentsModule {}
