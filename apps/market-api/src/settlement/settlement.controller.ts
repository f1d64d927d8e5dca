import { Controller, HttpCode, Post } from '@nestjs/common';
import { Roles } from '../auth/auth.decorators.js';
import { Clock } from '../common/clock.js';
import { SettlementService, type SettlementRunResult } from './settlement.service.js';

@Controller('v1/admin/settlement')
export class SettlementController {
  constructor(
    private readonly settlement: SettlementService,
    private readonly clock: Clock,
  ) {}

  /** Runs settlement now (the injected Clock's now; a body `now` is ignored). Idempotent. */
  @Roles('operator')
  @Post('run')
  @HttpCode(200)
  run(): Promise<SettlementRunResult> {
    return this.settlement.runDue(this.clock.now());
  }
}
