import { Controller, Get } from '@nestjs/common';
import type { WalletView } from '@suanli/contracts';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { WalletService } from './wallet.service.js';

@Controller('v1')
export class WalletController {
  constructor(private readonly wallets: WalletService) {}

  /**
   * The buyer's balances per currency: available (spendable), held (reserved for running leases)
   * and their total, as decimal strings.
   *
   * @summary Get the buyer's wallet
   */
  @Roles('buyer')
  @Get('wallet')
  wallet(@CurrentPrincipal() p: Principal): Promise<WalletView> {
    return this.wallets.view(p.orgId);
  }
}
