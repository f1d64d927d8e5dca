import { Global, Module } from '@nestjs/common';
import { ApiKeyVerifier } from '../auth/verifiers.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';

/** Organization API keys; global so the auth guard can verify `sk_…` bearers. */
@Global()
@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeysService, { provide: ApiKeyVerifier, useExisting: ApiKeysService }],
  exports: [ApiKeysService, ApiKeyVerifier],
})
export class ApiKeysModule {}
