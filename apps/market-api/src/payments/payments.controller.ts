import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Optional,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  type RawBodyRequest,
} from '@nestjs/common';
import type { Request } from 'express';
import { currencyCode, positiveDecimalString } from '@suanli/contracts';
import { z } from 'zod';
import { CurrentPrincipal, type Principal, Public, Roles } from '../auth/auth.decorators.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { parseInput } from '../common/validation.js';
import { Metrics } from '../observability/metrics.js';
import {
  PayoutsService,
  type ConnectOnboarding,
  type EarningsView,
  type MovementView,
  type PayoutRunResult,
} from './payouts.service.js';
import { OperatorCreditsService, type OperatorCreditView } from './operator-credits.service.js';
import { ReconciliationService, type ReconciliationReport } from './reconciliation.service.js';
import { TopUpsService, type TopUpView, type WebhookOutcome } from './top-ups.service.js';

export const moneySchema = z.object({ currency: currencyCode, amount: positiveDecimalString });
export const creditSchema = z.object({
  currency: currencyCode,
  amount: positiveDecimalString,
  memo: z.string().max(500).optional(),
});

@Controller('v1')
export class PaymentsController {
  constructor(
    private readonly topUps: TopUpsService,
    private readonly payouts: PayoutsService,
    private readonly reconciliation: ReconciliationService,
    private readonly credits: OperatorCreditsService,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  /**
   * Test-mode funding of a buyer's wallet (no real money). Refused once Stripe is configured,
   * and for an organization that is unknown, erased or not a buyer; audited with the credit.
   *
   * @summary Credit a buyer wallet in test mode (operators)
   * @param orgId The buyer organization's id (a UUID).
   */
  @Roles('operator')
  @Idempotent()
  @Post('admin/wallets/:orgId/credits')
  credit(
    @CurrentPrincipal() p: Principal,
    @Param('orgId', ParseUUIDPipe) orgId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: Request & { correlationId?: string },
  ): Promise<OperatorCreditView> {
    const input = parseInput(creditSchema, body);
    return this.credits.credit(p, orgId, input, key, {
      ip: req.ip ?? null,
      correlationId: req.correlationId ?? null,
    });
  }

  /**
   * Starts a top-up: a Stripe Checkout Session (its URL), or in test mode an immediate credit.
   *
   * @summary Top up the wallet
   */
  // Resumable: a retry after a crash carries on with the top-up its key created.
  @Roles('buyer')
  @Idempotent({ resumable: true })
  @Post('wallet/top-ups')
  createTopUp(
    @CurrentPrincipal() p: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string,
  ): Promise<TopUpView> {
    const input = parseInput(moneySchema, body);
    return this.topUps.create(p.orgId, input.currency, input.amount, key);
  }

  /**
   * The buyer's top-ups, newest first, with their status (`open` until paid, then `paid`) and
   * amounts.
   *
   * @summary List the wallet's top-ups
   */
  @Roles('buyer')
  @Get('wallet/top-ups')
  async listTopUps(@CurrentPrincipal() p: Principal): Promise<{ items: TopUpView[] }> {
    return { items: await this.topUps.list(p.orgId) };
  }

  /**
   * Refunds unused available balance to the card of a paid Stripe top-up.
   *
   * @summary Refund unused wallet balance
   */
  // Resumable: a retry after a crash finds the parts its key booked and sends those not sent yet.
  @Roles('buyer')
  @Idempotent({ resumable: true })
  @Post('wallet/refunds')
  refund(
    @CurrentPrincipal() p: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string,
  ): Promise<MovementView> {
    const input = parseInput(moneySchema, body);
    return this.payouts.refund(p.orgId, input.currency, input.amount, key);
  }

  /**
   * Refunds of unused balance to the buyer's card, newest first, with their status.
   *
   * @summary List the wallet's refunds
   */
  @Roles('buyer')
  @Get('wallet/refunds')
  async refunds(@CurrentPrincipal() p: Principal): Promise<{ items: MovementView[] }> {
    return { items: await this.payouts.movements(p.orgId, 'refund') };
  }

  /**
   * Stripe's webhook: signature-verified on the raw body; each event id applied once.
   *
   * @summary Receive Stripe webhook events
   * @param signature Stripe's signature of the raw body (`t=<time>,v1=<HMAC>`), checked against the
   * webhook secret.
   */
  @Public()
  @Post('stripe/webhook')
  @HttpCode(200)
  webhook(
    @Req() req: RawBodyRequest<Request>,
    @Headers('stripe-signature') signature: string | undefined,
  ): Promise<WebhookOutcome> {
    return this.topUps.handleWebhook(req.rawBody, signature).then(
      (o) => {
        this.metrics?.webhooks.inc({ type: o.type, outcome: o.outcome });
        return o;
      },
      (e: unknown) => {
        this.metrics?.webhooks.inc({ type: 'unverified', outcome: 'rejected' });
        throw e;
      },
    );
  }

  /**
   * Sellers: onboard (or resume onboarding) as a Stripe Connect account.
   *
   * @summary Onboard as a Stripe Connect account (sellers)
   */
  @Roles('seller')
  @Post('earnings/connect-account')
  @HttpCode(200)
  connect(@CurrentPrincipal() p: Principal): Promise<ConnectOnboarding> {
    return this.payouts.onboard(p.orgId);
  }

  /**
   * Sellers: payable balances, Connect account and payouts.
   *
   * @summary Get the seller's earnings
   */
  @Roles('seller')
  @Get('earnings')
  earnings(@CurrentPrincipal() p: Principal): Promise<EarningsView> {
    return this.payouts.earnings(p.orgId);
  }

  /**
   * Operators: run the payout schedule now (idempotent per seller, currency and day).
   *
   * @summary Run payouts now (operators)
   */
  @Roles('operator')
  @Post('admin/payouts/run')
  @HttpCode(200)
  async runPayouts(): Promise<PayoutRunResult> {
    const result = await this.payouts.runPayouts();
    this.metrics?.countPayouts(result);
    return result;
  }

  /**
   * Operators: ledger movements vs Stripe balance transactions, every difference listed.
   *
   * @summary Reconcile the ledger with Stripe (operators)
   */
  @Roles('operator')
  @Get('admin/reconciliation')
  reconciliationReport(): Promise<ReconciliationReport> {
    return this.reconciliation.report();
  }
}
