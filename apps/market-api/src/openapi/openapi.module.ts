import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { DeprecationInterceptor } from '../common/deprecation.js';
import { OpenApiController } from './openapi.controller.js';

/**
 * Serves `/openapi.json` and the reference page `/docs`; answers of operations marked
 * `@Deprecated` carry `Deprecation` and `Sunset` headers (docs/api-versioning.md).
 */
@Module({
  controllers: [OpenApiController],
  providers: [{ provide: APP_INTERCEPTOR, useClass: DeprecationInterceptor }],
})
export class OpenApiModule {}
