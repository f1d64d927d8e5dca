import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource, type EntityManager } from 'typeorm';
import { fromMinorUnits, Money, toMinorUnits } from '@suanli/money';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';
import { answerInTransaction } from '../idempotency/idempotency.interceptor.js';
import { StripeEventEntity, TopUpEntity } from '../database/settlement.entities.js';
import { LedgerService, PLATFORM_OWNER } from '../ledger/ledger.service.js';
import { WalletService } from '../ledger/wallet.service.js';
import { CHECKOUT_SESSION_ID, PaymentsConfig } from './payments.config.js';
import { StripeGateway } from './stripe.client.js';

/** Ledger reference of the credit of a paid top-up (one per top-up, whatever the events). */
export const topUpReference = (topUpId: string): string => `top-up:${topUpId}`;

export interface TopUpView {
  id: string;
  currency: string;
  amount: string;
  provider: 'stripe' | 'test_mode';
  status: 'open' | 'paid';
  /** Stripe Checkout page to send the buyer to (null in test mode: credited already). */
  checkoutUrl: string | null;
  /** True when no real money moves (no Stripe key configured). */
  testMode: boolean;
  createdAt: string;
  paidAt: string | null;
}

export interface WebhookOutcome {
  received: true;
  eventId: string;
  type: string;
  /** `credited`, `duplicate`, `already_credited`, `ignored`, `unknown_type`, … */
  outcome: string;
}

/** The largest amount of one Stripe payment, in minor units (999,999.99 for two-digit currencies). */
export const MAX_PAYMENT_MINOR_UNITS = 99_999_999;

/** How far a webhook's signature time may be from now, either way (Stripe's default, 5 min). */
export const WEBHOOK_TOLERANCE_S = 300;

/** True when the `t=` of a Stripe-Signature header lies more than `toleranceS` ahead of now. */
export function signedInFuture(header: string, nowMs: number, toleranceS: number): boolean {
  const t = /(?:^|,)\s*t=(\d{1,12})(?:,|$)/.exec(header)?.[1];
  return t === undefined || Number(t) > Math.floor(nowMs / 1000) + toleranceS;
}

/** Event types that pay a top-up; anything else is acknowledged and ignored. */
const PAYING = new Set(['checkout.session.completed', 'payment_intent.succeeded']);
const KNOWN = new Set([
  ...PAYING,
  'checkout.session.expired',
  'checkout.session.async_payment_failed',
  'payment_intent.payment_failed',
  'charge.refunded',
  'transfer.created',
  'account.updated',
]);

interface PayingObject {
  id: string;
  object: string;
  client_reference_id?: string | null;
  metadata?: Record<string, string> | null;
  payment_status?: string;
  status?: string;
  amount_total?: number | null;
  amount?: number;
  amount_received?: number;
  currency?: string | null;
  payment_intent?: string | { id: string } | null;
}

/**
 * The development checkout stand-in's URL for a session (STRIPE_CHECKOUT_URL): stripe-mock keeps
 * no state and hosts no Checkout page, so the stand-in is told what it shows and pays.
 */
export function standInCheckoutUrl(
  template: string,
  s: {
    sessionId: string;
    topUpId: string;
    amountTotal: number;
    currency: string;
    successUrl: string;
    cancelUrl: string;
  },
): string {
  const url = new URL(template.replaceAll(CHECKOUT_SESSION_ID, encodeURIComponent(s.sessionId)));
  url.searchParams.set('client_reference_id', s.topUpId);
  url.searchParams.set('amount_total', String(s.amountTotal));
  url.searchParams.set('currency', s.currency);
  url.searchParams.set('success_url', s.successUrl);
  url.searchParams.set('cancel_url', s.cancelUrl);
  return url.toString();
}

/**
 * Wallet top-ups. With Stripe: a Checkout Session, and the wallet is credited only by the
 * verified webhook, once per top-up (a duplicate or second paying event for it changes nothing)
 * and each Stripe event id is applied once. Without a Stripe key: the labelled test-mode
 * provider credits at once (no real money).
 */
@Injectable()
export class TopUpsService {
  private readonly log = new Logger('payments');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly wallets: WalletService,
    private readonly gateway: StripeGateway,
    private readonly config: PaymentsConfig,
    private readonly clock: Clock,
  ) {}

  async create(
    orgId: string,
    currency: string,
    amount: string,
    idempotencyKey: string,
  ): Promise<TopUpView> {
    const money = Money.of(amount, currency);
    if (!money.isPositive() || !money.isAtMinorPrecision()) {
      throw new DomainError(
        'validation_failed',
        `amount must be positive whole ${currency} minor units`,
        400,
        { field: 'amount', amount },
      );
    }
    // Checked before anything is saved: a top-up Stripe cannot take must leave no row (#18).
    const largest = fromMinorUnits(MAX_PAYMENT_MINOR_UNITS, currency);
    if (money.gt(largest)) {
      throw new DomainError(
        'validation_failed',
        `amount exceeds the largest single payment (${largest.toString()} ${currency})`,
        400,
        { field: 'amount', amount, max: largest.toString() },
      );
    }
    const stripe = this.gateway.stripe;
    const repo = this.db.getRepository(TopUpEntity);
    // A retry of a request cut off after its top-up was created (same Idempotency-Key, taken
    // over by the interceptor) carries on with that top-up: nothing is created twice.
    const earlier = await repo.findOneBy({ orgId, idempotencyKey });
    if (earlier && !Money.of(earlier.amount, earlier.currency).equals(money)) {
      throw new DomainError(
        'idempotency_conflict',
        'this Idempotency-Key was used with another top-up',
        422,
      );
    }
    const row = {
      orgId,
      currency,
      amount: money.toString(),
      provider: stripe ? ('stripe' as const) : ('test_mode' as const),
      sessionId: null,
      paymentIntentId: null,
      status: 'open' as const,
      paidAt: null,
      idempotencyKey,
    };
    if (!stripe) {
      // Test mode: created and credited in one transaction, read back before it commits, with
      // the answer committed alongside: nothing can fail between the money moving and the answer.
      return this.db.transaction(async (m) => {
        let paid = earlier;
        if (!paid) {
          const created = await m.getRepository(TopUpEntity).save(row);
          await this.creditTopUp(m, created, 'test_mode');
          paid = await m.getRepository(TopUpEntity).findOneByOrFail({ id: created.id });
        }
        return answerInTransaction(this.view(paid, null));
      });
    }
    // Committed on its own before Stripe is called (a crash after it leaves the key marked, and
    // the retry resumes here with the same top-up).
    const topUp = earlier ?? (await repo.save(row));
    const back = `${this.config.publicWebUrl}/wallet?top-up=${topUp.id}`;
    // The same return URLs go to a development checkout stand-in (STRIPE_CHECKOUT_URL). A
    // resumed request sends exactly the same parameters with the same Stripe idempotency key,
    // so Stripe answers with the session it created the first time (if it got that far).
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'payment',
        client_reference_id: topUp.id,
        metadata: { topUpId: topUp.id, orgId },
        payment_intent_data: { metadata: { topUpId: topUp.id, orgId } },
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: currency.toLowerCase(),
              unit_amount: toMinorUnits(money),
              product_data: { name: `Suanli wallet top-up (${currency})` },
            },
          },
        ],
        success_url: `${back}&status=success`,
        cancel_url: `${back}&status=cancelled`,
      },
      { idempotencyKey: `top-up:${orgId}:${idempotencyKey}` },
    );
    const url = this.config.checkoutUrl
      ? standInCheckoutUrl(this.config.checkoutUrl, {
          sessionId: session.id,
          topUpId: topUp.id,
          amountTotal: toMinorUnits(money),
          currency: currency.toLowerCase(),
          successUrl: `${back}&status=success`,
          cancelUrl: `${back}&status=cancelled`,
        })
      : (session.url ?? null);
    // The session is recorded and the answer committed in one transaction.
    return this.db.transaction(async (m) => {
      await m.update(TopUpEntity, { id: topUp.id }, { sessionId: session.id });
      const current = await m.findOneByOrFail(TopUpEntity, { id: topUp.id });
      return answerInTransaction(this.view(current, url));
    });
  }

  async list(orgId: string): Promise<TopUpView[]> {
    const rows = await this.db.getRepository(TopUpEntity).find({
      where: { orgId },
      order: { createdAt: 'DESC' },
      take: 100,
    });
    return rows.map((r) => this.view(r, null));
  }

  /**
   * Verifies and applies a webhook delivery. A bad or missing signature is a 400 and changes
   * nothing; each event id is applied once (recorded in `stripe_events` in the same transaction
   * as its effect); unknown types are acknowledged.
   */
  async handleWebhook(
    rawBody: Buffer | undefined,
    signature: string | undefined,
  ): Promise<WebhookOutcome> {
    const stripe = this.gateway.stripe;
    if (!stripe || !this.config.webhookSecret) {
      throw new DomainError('validation_failed', 'Stripe is not configured (test mode)', 400);
    }
    if (!rawBody || !signature) {
      throw new DomainError('validation_failed', 'missing Stripe-Signature or body', 400);
    }
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(
        rawBody,
        signature,
        this.config.webhookSecret,
        WEBHOOK_TOLERANCE_S,
      );
    } catch (e) {
      this.log.warn(`webhook rejected: ${e instanceof Error ? e.message : String(e)}`);
      throw new DomainError('validation_failed', 'invalid Stripe signature', 400);
    }
    // The SDK refuses signatures older than the tolerance only; one from the future is as
    // suspect (a replay prepared ahead, a skewed signer): refused the same way.
    if (signedInFuture(signature, Date.now(), WEBHOOK_TOLERANCE_S)) {
      this.log.warn('webhook rejected: Stripe-Signature timestamp in the future');
      throw new DomainError('validation_failed', 'invalid Stripe signature', 400, {
        reason: 'timestamp_in_future',
      });
    }
    return this.db.transaction(async (m) => {
      const inserted: { id: string }[] = await m.query(
        `INSERT INTO stripe_events (id, type, outcome) VALUES ($1, $2, 'processing')
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.id, event.type],
      );
      if (inserted.length === 0) {
        return { received: true, eventId: event.id, type: event.type, outcome: 'duplicate' };
      }
      let outcome: string;
      if (PAYING.has(event.type)) {
        outcome = await this.applyPaying(m, event.data.object as unknown as PayingObject);
      } else {
        outcome = KNOWN.has(event.type) ? 'ignored' : 'unknown_type';
      }
      await m.update(StripeEventEntity, { id: event.id }, { outcome });
      return { received: true, eventId: event.id, type: event.type, outcome };
    });
  }

  private async applyPaying(m: EntityManager, obj: PayingObject): Promise<string> {
    const topUpId = obj.client_reference_id ?? obj.metadata?.topUpId;
    if (!topUpId || !/^[0-9a-f-]{36}$/i.test(topUpId)) return 'ignored_no_top_up';
    const paid =
      obj.object === 'checkout.session'
        ? obj.payment_status === 'paid'
        : obj.status === 'succeeded';
    if (!paid) return 'ignored_unpaid';
    const topUp = await m.findOne(TopUpEntity, {
      where: { id: topUpId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!topUp) return 'ignored_unknown_top_up';
    const minor =
      obj.object === 'checkout.session' ? obj.amount_total : (obj.amount_received ?? obj.amount);
    if (typeof minor !== 'number' || !obj.currency) return 'rejected_no_amount';
    const got = fromMinorUnits(minor, obj.currency);
    if (!got.equals(Money.of(topUp.amount, topUp.currency))) {
      this.log.error(
        `top-up ${topUp.id}: paid ${got.toString()} ${got.currency} ≠ ${topUp.amount} ${topUp.currency}`,
      );
      return 'rejected_amount_mismatch';
    }
    const pi =
      obj.object === 'payment_intent'
        ? obj.id
        : typeof obj.payment_intent === 'string'
          ? obj.payment_intent
          : (obj.payment_intent?.id ?? null);
    if (pi && !topUp.paymentIntentId) {
      await m.update(TopUpEntity, { id: topUp.id }, { paymentIntentId: pi });
    }
    if (topUp.status === 'paid') return 'already_credited';
    await this.creditTopUp(m, topUp, 'stripe');
    return 'credited';
  }

  /** Credits the top-up to the wallet (Stripe clearing or test funding → available). */
  private async creditTopUp(
    m: EntityManager,
    topUp: TopUpEntity,
    via: 'stripe' | 'test_mode',
  ): Promise<void> {
    const amount = Money.of(topUp.amount, topUp.currency);
    await this.ledger.post(m, {
      kind: via === 'stripe' ? 'wallet_top_up' : 'wallet_credit_test_mode',
      reference: topUpReference(topUp.id),
      memo:
        via === 'stripe'
          ? `Stripe top-up ${topUp.id}`
          : `TEST MODE top-up ${topUp.id} (no real money)`,
      entries: [
        {
          ownerKey: PLATFORM_OWNER,
          kind: via === 'stripe' ? 'stripe_clearing' : 'test_funding',
          currency: topUp.currency,
          amount: amount.negated().toString(),
        },
        {
          ownerKey: topUp.orgId,
          kind: 'wallet_available',
          currency: topUp.currency,
          amount: amount.toString(),
        },
      ],
    });
    await m.update(TopUpEntity, { id: topUp.id }, { status: 'paid', paidAt: this.clock.now() });
    await this.wallets.collectReceivable(m, topUp.orgId, topUp.currency);
  }

  private view(r: TopUpEntity, checkoutUrl: string | null): TopUpView {
    return {
      id: r.id,
      currency: r.currency,
      amount: Money.of(r.amount, r.currency).toString(),
      provider: r.provider,
      status: r.status,
      checkoutUrl,
      testMode: r.provider === 'test_mode',
      createdAt: (r.createdAt ?? this.clock.now()).toISOString(),
      paidAt: r.paidAt ? r.paidAt.toISOString() : null,
    };
  }
}
