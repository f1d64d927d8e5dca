import { Controller, Get } from '@nestjs/common';
import type { WalletView } from '@suanli/contracts';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { WalletService } from './wallet.service.js';

@Controller('v1')
export class WalletController {
  constructor(private readonly wallets: WalletService) {}

  @Roles('buyer')
  @Get('wallet')
  wallet(@CurrentPrincipal() p: Principal): Promise<WalletView> {
    return this.wallets.view(p.orgId);
  }
}
