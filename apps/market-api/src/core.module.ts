import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AppConfig } from './config/app-config.js';
import { Clock } from './common/clock.js';
import { ErrorEnvelopeFilter } from './common/error.filter.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { AuthGuard } from './auth/auth.guard.js';
import { PlatformKeys } from './auth/platform-keys.js';
import { TokensService } from './auth/tokens.service.js';

/** Process-wide providers: configuration, time, keys, the auth guard and the error filter. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, clock: Clock): DynamicModule {
    const shared = [
      { provide: AppConfig, useValue: config },
      { provide: Clock, useValue: clock },
      { provide: PlatformKeys, useFactory: () => PlatformKeys.fromConfig(config) },
      TokensService,
      IdempotencyInterceptor,
    ];
    return {
      module: CoreModule,
      providers: [
        ...shared,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ErrorEnvelopeFilter },
      ],
      exports: [AppConfig, Clock, PlatformKeys, TokensService, IdempotencyInterceptor],
    };
  }
}
