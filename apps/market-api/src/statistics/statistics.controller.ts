import { Controller, Get, Query } from '@nestjs/common';
import { MarketStatisticsQuery, type MarketStatisticsView } from '@suanli/contracts';
import { Public } from '../auth/auth.decorators.js';
import { parseInput } from '../common/validation.js';
import { StatisticsService } from './statistics.service.js';

@Controller('v1/statistics')
export class StatisticsController {
  constructor(private readonly stats: StatisticsService) {}

  /** Volume and price per class, region and time bucket; cells under k = 5 suppressed. */
  @Public()
  @Get('market')
  market(@Query() q: unknown): Promise<MarketStatisticsView> {
    return this.stats.market(parseInput(MarketStatisticsQuery, q));
  }
}
