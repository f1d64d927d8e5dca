import { Module } from '@nestjs/common';
import { PrivacyController } from './privacy.controller.js';
import { SettlementConfig } from '../settlement/settlement.config.js';
import { PrivacyService } from './privacy.service.js';
import { PseudonymsService } from './pseudonyms.service.js';

@Module({
  controllers: [PrivacyController],
  providers: [
    PrivacyService,
    PseudonymsService,
    { provide: SettlementConfig, useFactory: () => SettlementConfig.fromEnv(process.env) },
  ],
  exports: [PrivacyService],
})
export class PrivacyModule {}
