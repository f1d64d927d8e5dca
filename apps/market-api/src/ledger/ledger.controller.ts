import { Controller, Get } from '@nestjs/common';
import { Roles } from '../auth/auth.decorators.js';
import { LedgerService, type TrialBalance } from './ledger.service.js';

@Controller('v1/admin/ledger')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  /**
   * The balance of every ledger account, per currency, with the check that debits equal credits
   * (double-entry bookkeeping).
   *
   * @summary Get the ledger trial balance (operators)
   */
  @Roles('operator')
  @Get('trial-balance')
  trialBalance(): Promise<TrialBalance> {
    return this.ledger.trialBalance();
  }
}
