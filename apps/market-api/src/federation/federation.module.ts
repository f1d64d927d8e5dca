import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { DirectoryService } from './directory.service.js';
import { FederationConfig } from './federation.config.js';
import { FederationController } from './federation.controller.js';
import { StatisticsModule } from '../statistics/statistics.module.js';
import { Membership } from './membership.js';
import { NationalMonitoring } from './national-monitoring.js';
import { PeerCalls } from './peer-calls.js';
import { PlatformIdentity } from './platform-identity.js';
import { ResolutionService } from './resolution.service.js';

/** Interconnection of platforms (docs/federation.md): directory, peer trust, resolution,
 * national monitoring. */
@Module({})
export class FederationModule {
  /** `registry` is the module exporting RegistryService (local resolution). */
  static register(registry: Type): DynamicModule {
    return {
      module: FederationModule,
      imports: [registry, StatisticsModule],
      controllers: [FederationController],
      providers: [
        { provide: FederationConfig, useFactory: () => new FederationConfig(process.env) },
        PlatformIdentity,
        DirectoryService,
        PeerCalls,
        ResolutionService,
        Membership,
        NationalMonitoring,
      ],
    };
  }
}
