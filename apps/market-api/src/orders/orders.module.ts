import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { OffersModule } from '../offers/offers.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { SettlementModule } from '../settlement/settlement.module.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

/** Orders, and the leases they create. */
@Module({
  imports: [RegistryModule, OffersModule, SettlementModule, DeliveryModule],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class OrdersModule {}
