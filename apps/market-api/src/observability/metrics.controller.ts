import { Controller, Get, Header, Req } from '@nestjs/common';
import type { Request } from 'express';
import { bearerTokenMatches } from '@suanli/crypto';
import { ScrapeTokenAuth } from '../auth/auth.decorators.js';
import { notFound, unauthenticated } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from './metrics.js';

/**
 * `GET /metrics`: Prometheus text format, for the scraper only: it needs the bearer scrape
 * token (`METRICS_TOKEN`); without one configured the route does not exist (docs/operations.md).
 */
@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {}

  /**
   * Counters and histograms in the Prometheus text format: requests by route and status, ingest,
   * settlement, payouts, webhooks. Counts and totals only, never identities.
   *
   * @summary Scrape Prometheus metrics
   */
  @ScrapeTokenAuth()
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(@Req() req: Request): Promise<string> {
    const token = this.config.metricsToken;
    if (token === undefined) throw notFound('route');
    if (!bearerTokenMatches(req.header('authorization'), token)) {
      throw unauthenticated('the metrics scrape token is required');
    }
    return this.metrics.registry.metrics();
  }
}
