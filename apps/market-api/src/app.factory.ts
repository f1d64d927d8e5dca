import 'reflect-metadata';
import { type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig } from './config/app-config.js';
import { Clock, SystemClock } from './common/clock.js';
import { correlationMiddleware } from './observability/correlation.middleware.js';
import { AppModule } from './app.module.js';
import { applyHttpSecurity } from './security/http-security.js';
import { inputGuard } from './security/input-guard.js';
import { httpMetricsMiddleware } from './observability/http-metrics.middleware.js';
import { Metrics } from './observability/metrics.js';

export interface CreateAppOptions {
  clock?: Clock;
  logger?: LoggerService | LogLevel[] | false;
}

/** Builds the market API (used by main.ts and by tests, which boot the real app in-process). */
export async function createApp(
  config: AppConfig,
  opts: CreateAppOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, opts.clock ?? new SystemClock()),
    {
      logger: opts.logger ?? ['error', 'warn', 'log'],
      bodyParser: false,
      // req.rawBody for the Stripe webhook's signature check (captured by the JSON parser below).
      rawBody: true,
    },
  );
  app.use(correlationMiddleware);
  app.use(httpMetricsMiddleware(app.get(Metrics)));
  applyHttpSecurity(app, config);
  app.useBodyParser('json', { limit: config.bodyLimit });
  // After the parser, before every route: no NUL characters, no deep nesting (#18).
  app.use(inputGuard);
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  return app;
}
