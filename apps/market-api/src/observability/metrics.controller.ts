import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/auth.decorators.js';
import { Metrics } from './metrics.js';

/**
 * `GET /metrics`: Prometheus text format. Public like the health checks: expose it on the
 * internal network only (docs/operations.md); it carries counts and totals, never identities.
 */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Public()
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
