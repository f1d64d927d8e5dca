import { Controller, Get, Query } from '@nestjs/common';
import {
  windowHoursQuery,
  MarketStatisticsQuery,
  type MarketStatisticsView,
} from '@suanli/contracts';
import { Public } from '../auth/auth.decorators.js';
import { parseInput } from '../common/validation.js';
import { StatisticsService, type MarketOverview } from './statistics.service.js';

@Controller('v1/statistics')
export class StatisticsController {
  constructor(private readonly stats: StatisticsService) {}

  /**
   * Volume and price per class, region and time bucket; cells under k = 5 suppressed.
   *
   * @summary Get market statistics
   */
  @Public()
  @Get('market')
  market(@Query() q: unknown): Promise<MarketStatisticsView> {
    return this.stats.market(parseInput(MarketStatisticsQuery, q));
  }

  /**
   * Supply (resources by class and state, online share, listed and leased capacity, utilization
   * by class and region), traded volume per currency and the price index per standard unit
   * (`scu.ai`, `scu.hpc`, `scu.gen`) of this platform; traded figures under k = 5 suppressed.
   *
   * @summary Get the market overview
   */
  @Public()
  @Get('overview')
  overview(@Query() q: unknown): Promise<MarketOverview> {
    return this.stats.overview(parseInput(windowHoursQuery, q).windowHours);
  }
}
