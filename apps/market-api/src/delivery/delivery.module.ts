import { Module } from '@nestjs/common';
import { PrivacyModule } from '../privacy/privacy.module.js';
import { SettlementConfig } from '../settlement/settlement.config.js';
import { SettlementModule } from '../settlement/settlement.module.js';
import { DeliveryController } from './delivery.controller.js';
import { DeliveryScheduler } from './delivery.scheduler.js';
import { DeliveryService } from './delivery.service.js';
import { SshKeysService } from './ssh-keys.service.js';

/** Delivery's market side: owns resource_delivery, lease_deliveries, their events and SSH keys. */
@Module({
  imports: [SettlementModule, PrivacyModule],
  controllers: [DeliveryController],
  providers: [
    DeliveryService,
    SshKeysService,
    DeliveryScheduler,
    { provide: SettlementConfig, useFactory: () => SettlementConfig.fromEnv(process.env) },
  ],
  exports: [DeliveryService],
})
export class DeliveryModule {}
