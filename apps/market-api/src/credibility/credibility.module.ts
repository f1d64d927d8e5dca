import { Module } from '@nestjs/common';
import { RegistryService } from '../registry/registry.service.js';
import { CredibilityConfig } from './credibility.config.js';
import { CredibilityController } from './credibility.controller.js';
import { CredibilityScheduler } from './credibility.scheduler.js';
import { CredibilityService } from './credibility.service.js';
import { ScoresService } from './scores.service.js';

/** Assessors, signed evaluations and explainable scores (RegistryService is stateless). */
@Module({
  controllers: [CredibilityController],
  providers: [
    { provide: CredibilityConfig, useFactory: () => CredibilityConfig.fromEnv(process.env) },
    RegistryService,
    ScoresService,
    CredibilityService,
    CredibilityScheduler,
  ],
  exports: [ScoresService],
})
export class CredibilityModule {}
