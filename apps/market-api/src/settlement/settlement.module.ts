import { Module } from '@nestjs/common';
import { MoneyEventsModule } from '../events/money-events.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { SettlementLogModule } from '../settlement-log/settlement-log.module.js';
import { EscrowService } from './escrow.service.js';
import { InvoicesController } from './invoices.controller.js';
import { InvoicesService } from './invoices.service.js';
import { SettlementConfig } from './settlement.config.js';
import { SettlementController } from './settlement.controller.js';
import { SettlementScheduler } from './settlement.scheduler.js';
import { SettlementService } from './settlement.service.js';
import { SlaWatch } from './sla-watch.service.js';

@Module({
  imports: [LedgerModule, MoneyEventsModule, SettlementLogModule, RegistryModule],
  controllers: [InvoicesController, SettlementController],
  providers: [
    { provide: SettlementConfig, useFactory: () => SettlementConfig.fromEnv(process.env) },
    EscrowService,
    InvoicesService,
    SettlementService,
    SettlementScheduler,
    SlaWatch,
  ],
  exports: [EscrowService, SettlementService, InvoicesService],
})
export class SettlementModule {}
