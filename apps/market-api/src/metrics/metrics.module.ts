import { Global, Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module.js';
import { LedgerBalanceMonitor } from './ledger-balance.monitor.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.js';

/**
 * Prometheus metrics (`GET /metrics`) and the ledger balance check. The HTTP latency middleware
 * (`httpMetricsMiddleware`) is installed by app.factory.ts, before the routes.
 */
@Global()
@Module({
  imports: [LedgerModule],
  controllers: [MetricsController],
  providers: [Metrics, LedgerBalanceMonitor],
  exports: [Metrics],
})
export class MetricsModule {}
