import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.js';

/**
 * Prometheus metrics (`GET /metrics`). The HTTP latency middleware (`httpMetricsMiddleware`) is
 * installed by app.factory.ts, before the routes; features record their own figures in `Metrics`.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics],
  exports: [Metrics],
})
export class MetricsModule {}
