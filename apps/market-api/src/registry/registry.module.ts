import { Module } from '@nestjs/common';
import { RegistryController } from './registry.controller.js';
import { RegistryService } from './registry.service.js';

/** Resources, their CRIs and lifecycle, and the identifier gateway (`/v1/cri/…`). */
@Module({
  controllers: [RegistryController],
  providers: [RegistryService],
  exports: [RegistryService],
})
export class RegistryModule {}
