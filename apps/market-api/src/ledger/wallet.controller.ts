import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { currencyCode, positiveDecimalString, type WalletView } from '@suanli/contracts';
import { z } from 'zod';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { Idempotent } from '../common/idempotency.interceptor.js';
import { parseInput } from '../common/validation.js';
import { WalletService } from './wallet.service.js';

export const creditSchema = z.object({
  currency: currencyCode,
  amount: positiveDecimalString,
  memo: z.string().max(500).optional(),
});

@Controller('v1')
export class WalletController {
  constructor(private readonly wallets: WalletService) {}

  @Roles('buyer')
  @Get('wallet')
  wallet(@CurrentPrincipal() p: Principal): Promise<WalletView> {
    return this.wallets.view(p.orgId);
  }

  /** Test-mode top-up (no real money): the local default until Stripe top-ups land. */
  @Roles('operator')
  @Idempotent()
  @Post('admin/wallets/:orgId/credits')
  credit(
    @CurrentPrincipal() p: Principal,
    @Param('orgId', ParseUUIDPipe) orgId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<{ transactionId: string; testMode: true; wallet: WalletView }> {
    const input = parseInput(creditSchema, body);
    // The interceptor replays retries; the reference makes the ledger posting itself idempotent too.
    const reference = `test-credit:${p.orgId}:${orgId}:${key ?? randomUUID()}`;
    const memo = `test-mode funding${input.memo ? `: ${input.memo}` : ''}`;
    // Posted and read back in one transaction, which also commits the answer (crash safety).
    return this.wallets.creditAndView(orgId, input.currency, input.amount, reference, memo);
  }
}
