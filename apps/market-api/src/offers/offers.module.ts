import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module.js';
import { DemandsController } from './demands.controller.js';
import { DemandsService } from './demands.service.js';
import { OffersController } from './offers.controller.js';
import { OffersService } from './offers.service.js';

/** Offers (the catalog) and buyers' demands matched against it. */
@Module({
  imports: [RegistryModule],
  controllers: [OffersController, DemandsController],
  providers: [OffersService, DemandsService],
  exports: [OffersService],
})
export class OffersModule {}
