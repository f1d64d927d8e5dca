import { Module } from '@nestjs/common';
import { PrivacyController } from './privacy.controller.js';
import { PseudonymSecret } from './pseudonym-secret.js';
import { PrivacyService } from './privacy.service.js';
import { PseudonymsService } from './pseudonyms.service.js';

@Module({
  controllers: [PrivacyController],
  providers: [
    PrivacyService,
    PseudonymsService,
    { provide: PseudonymSecret, useFactory: () => PseudonymSecret.fromEnv(process.env) },
  ],
  exports: [PrivacyService, PseudonymSecret],
})
export class PrivacyModule {}
