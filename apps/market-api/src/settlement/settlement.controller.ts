import { Controller, HttpCode, Optional, Post } from '@nestjs/common';
import { Roles } from '../auth/auth.decorators.js';
import { Clock } from '../common/clock.js';
import { Metrics } from '../observability/metrics.js';
import { SettlementService, type SettlementRunResult } from './settlement.service.js';

@Controller('v1/admin/settlement')
export class SettlementController {
  constructor(
    private readonly settlement: SettlementService,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  /**
   * Runs settlement now (the injected Clock's now; a body `now` is ignored). Idempotent.
   *
   * @summary Run settlement now (operators)
   */
  @Roles('operator')
  @Post('run')
  @HttpCode(200)
  async run(): Promise<SettlementRunResult> {
    const result = await this.settlement.runDue(this.clock.now());
    this.metrics?.countSettlement(result);
    return result;
  }
}
