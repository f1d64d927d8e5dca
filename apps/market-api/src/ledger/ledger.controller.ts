import { Controller, Get } from '@nestjs/common';
import { Roles } from '../auth/auth.decorators.js';
import { LedgerService, type TrialBalance } from './ledger.service.js';

@Controller('v1/admin/ledger')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  @Roles('operator')
  @Get('trial-balance')
  trialBalance(): Promise<TrialBalance> {
    return this.ledger.trialBalance();
  }
}
