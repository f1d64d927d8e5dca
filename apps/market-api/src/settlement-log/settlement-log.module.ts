import { Module } from '@nestjs/common';
import { PrivacyModule } from '../privacy/privacy.module.js';
import { SettlementLogConfig } from './settlement-log.config.js';
import { SettlementLogLeaves } from './settlement-log.events.js';
import { SettlementLogController } from './settlement-log.controller.js';
import { SettlementLogScheduler } from './settlement-log.scheduler.js';
import { SettlementLogService } from './settlement-log.service.js';

/**
 * The settlement log (tamper evidence); its leaves come from the money events of settlement,
 * invoices and payouts (`SettlementLogLeaves`).
 */
@Module({
  imports: [PrivacyModule],
  controllers: [SettlementLogController],
  providers: [
    { provide: SettlementLogConfig, useFactory: () => new SettlementLogConfig(process.env) },
    SettlementLogService,
    SettlementLogScheduler,
    SettlementLogLeaves,
  ],
  exports: [SettlementLogService],
})
export class SettlementLogModule {}
