import { Module } from '@nestjs/common';
import { SettlementConfig } from '../settlement/settlement.config.js';
import { SettlementLogConfig } from './settlement-log.config.js';
import { SettlementLogController } from './settlement-log.controller.js';
import { SettlementLogScheduler } from './settlement-log.scheduler.js';
import { SettlementLogService } from './settlement-log.service.js';

/** The settlement log (tamper evidence); settlement, invoices and payouts append to it. */
@Module({
  controllers: [SettlementLogController],
  providers: [
    { provide: SettlementLogConfig, useFactory: () => new SettlementLogConfig(process.env) },
    { provide: SettlementConfig, useFactory: () => SettlementConfig.fromEnv(process.env) },
    SettlementLogService,
    SettlementLogScheduler,
  ],
  exports: [SettlementLogService],
})
export class SettlementLogModule {}
