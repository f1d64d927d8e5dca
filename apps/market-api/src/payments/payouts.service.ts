import { randomUUID } from 'node:crypto';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { Money, parseDecimal, toMinorUnits } from '@suanli/money';
import { Clock } from '../common/clock.js';
import { DomainError, invalidState } from '../common/errors.js';
import {
  ConnectAccountEntity,
  StripeMovementEntity,
  TopUpEntity,
} from '../database/settlement.entities.js';
import { MoneyEvents } from '../events/money-events.js';
import { LedgerService, PLATFORM_OWNER } from '../ledger/ledger.service.js';
import { PaymentsConfig } from './payments.config.js';
import { StripeGateway } from './stripe.client.js';
import { AuditService } from '../audit/audit.service.js';

export interface ConnectOnboarding {
  accountId: string;
  /** Stripe-hosted onboarding (account link); null in test mode. */
  url: string | null;
  testMode: boolean;
}

export interface MovementView {
  id: string;
  kind: 'payout' | 'refund';
  currency: string;
  amount: string;
  reference: string;
  stripeId: string | null;
  createdAt: string;
}

export interface PayoutRunResult {
  /** Payouts booked in this run. */
  booked: number;
  /** Transfers sent to Stripe in this run (new and retried). */
  sent: number;
  skippedBelowMinimum: number;
  skippedNoAccount: number;
  failed: { reference: string; error: string }[];
}

/** A refund request: its total, and one Stripe refund per top-up it was drawn from. */
export interface RefundView extends MovementView {
  parts: MovementView[];
}

export interface EarningsView {
  balances: { currency: string; payable: string }[];
  connectAccountId: string | null;
  payoutMinimum: string;
  payouts: MovementView[];
}

/**
 * Money leaving through Stripe: seller payouts (Connect transfers) and refunds of unused wallet
 * balance. Each is booked in the ledger first (with its reference, also the Stripe idempotency
 * key) and then sent; a send that failed is retried with the same key, so Stripe never pays twice.
 */
@Injectable()
export class PayoutsService {
  private readonly log = new Logger('payouts');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly gateway: StripeGateway,
    private readonly config: PaymentsConfig,
    private readonly clock: Clock,
    private readonly events: MoneyEvents,
    @Optional() private readonly audit?: AuditService,
  ) {}

  /** Creates (once) the seller's Connect account and an onboarding account link. */
  async onboard(orgId: string): Promise<ConnectOnboarding> {
    const stripe = this.gateway.stripe;
    const repo = this.db.getRepository(ConnectAccountEntity);
    let account = await repo.findOneBy({ orgId });
    if (!account) {
      const id = stripe
        ? (
            await stripe.accounts.create(
              { type: 'express', metadata: { orgId } },
              { idempotencyKey: `connect-account:${orgId}` },
            )
          ).id
        : `acct_test_mode_${orgId.replace(/-/g, '').slice(0, 16)}`;
      await repo
        .createQueryBuilder()
        .insert()
        .values({ orgId, stripeAccountId: id })
        .orIgnore()
        .execute();
      account = await repo.findOneByOrFail({ orgId });
    }
    if (!stripe) return { accountId: account.stripeAccountId, url: null, testMode: true };
    const back = `${this.config.publicWebUrl}/earnings`;
    const link = await stripe.accountLinks.create({
      account: account.stripeAccountId,
      type: 'account_onboarding',
      refresh_url: `${back}?onboarding=refresh`,
      return_url: `${back}?onboarding=done`,
    });
    return { accountId: account.stripeAccountId, url: link.url, testMode: false };
  }

  async earnings(orgId: string): Promise<EarningsView> {
    const balances = (await this.ledger.balances(orgId))
      .filter((b) => b.kind === 'seller_payable')
      .map((b) => ({ currency: b.currency, payable: b.balance }));
    const account = await this.db.getRepository(ConnectAccountEntity).findOneBy({ orgId });
    return {
      balances,
      connectAccountId: account?.stripeAccountId ?? null,
      payoutMinimum: this.config.payoutMinimum,
      payouts: await this.movements(orgId, 'payout'),
    };
  }

  async movements(orgId: string, kind: 'payout' | 'refund'): Promise<MovementView[]> {
    const rows = await this.db.getRepository(StripeMovementEntity).find({
      where: { orgId, kind },
      order: { createdAt: 'DESC' },
      take: 100,
    });
    return rows.map(movementView);
  }

  /**
   * The payout schedule's run: every seller payable at or above the minimum, with a Connect
   * account, is booked as one payout per (seller, currency, UTC day) (`payout:<org>:<cur>:<day>`)
   * and sent as a transfer with that reference as idempotency key; earlier unsent ones are retried.
   */
  async runPayouts(): Promise<PayoutRunResult> {
    const result: PayoutRunResult = {
      booked: 0,
      sent: 0,
      skippedBelowMinimum: 0,
      skippedNoAccount: 0,
      failed: [],
    };
    const day = this.clock.now().toISOString().slice(0, 10);
    const min = parseDecimal(this.config.payoutMinimum);
    const due: { owner_key: string; currency: string; balance: string }[] = await this.db.query(
      `SELECT owner_key, currency, balance::text AS balance FROM ledger_accounts
       WHERE kind = 'seller_payable' AND balance > 0 ORDER BY owner_key, currency`,
    );
    for (const row of due) {
      if (parseDecimal(row.balance).lt(min)) {
        result.skippedBelowMinimum += 1;
        continue;
      }
      const account = await this.db
        .getRepository(ConnectAccountEntity)
        .findOneBy({ orgId: row.owner_key });
      if (!account) {
        result.skippedNoAccount += 1;
        continue;
      }
      const reference = `payout:${row.owner_key}:${row.currency}:${day}`;
      if (await this.bookPayout(row.owner_key, row.currency, reference)) result.booked += 1;
    }
    // Send everything booked and not yet sent (this run's and earlier failures).
    const unsent = await this.db.getRepository(StripeMovementEntity).find({
      where: { stripeId: IsNull() },
      order: { createdAt: 'ASC' },
    });
    for (const mv of unsent) {
      try {
        await this.send(mv);
        result.sent += 1;
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        this.log.error(`${mv.reference}: ${error}`);
        result.failed.push({ reference: mv.reference, error });
      }
    }
    return result;
  }

  /** Books the whole payable (at most once per reference). True when booked now. */
  private bookPayout(orgId: string, currency: string, reference: string): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const payable = { ownerKey: orgId, kind: 'seller_payable' as const, currency };
      const clearing = { ownerKey: PLATFORM_OWNER, kind: 'stripe_clearing' as const, currency };
      await this.ledger.lockAccounts(m, [payable, clearing]);
      if (await this.ledger.transactionIdOf(m, reference)) return false;
      const amount = Money.of(await this.ledger.balanceOf(m, payable), currency);
      if (!amount.isPositive()) return false;
      await this.ledger.post(m, {
        kind: 'payout',
        reference,
        memo: `payout to seller ${orgId}`,
        entries: [
          { ...payable, amount: amount.negated().toString() },
          { ...clearing, amount: amount.toString() },
        ],
      });
      const movement = {
        kind: 'payout' as const,
        orgId,
        currency,
        amount: amount.toString(),
        reference,
        stripeId: null,
      };
      const inserted = await m.insert(StripeMovementEntity, movement);
      const { id, createdAt } = inserted.generatedMaps[0] as { id: string; createdAt: Date };
      await this.events.emit(m, 'payout.booked', { payout: { ...movement, id, createdAt } });
      // Audited here, so payouts booked by the scheduler are recorded as well as operator runs.
      await this.audit?.record(
        {
          action: 'payout.booked',
          orgId,
          targetType: 'payout',
          targetId: reference,
          details: { currency, amount: amount.toString() },
        },
        m,
      );
      return true;
    });
  }

  /**
   * Refunds `amount` of the buyer's unused available balance to the cards it came from: the
   * amount is allocated across the buyer's paid Stripe top-ups in that currency, newest first,
   * each taking at most what it has left unrefunded. Each part is its own ledger posting and its
   * own Stripe refund, with its own reference (`refund:<org>:<key>:<n>`, also the Stripe
   * idempotency key). Booked first (all parts in one transaction), then sent.
   */
  async refund(
    orgId: string,
    currency: string,
    amount: string,
    idempotencyKey: string | undefined,
  ): Promise<RefundView> {
    const money = Money.of(amount, currency);
    if (!money.isPositive() || !money.isAtMinorPrecision()) {
      throw new DomainError('validation_failed', 'amount must be positive whole minor units', 400, {
        field: 'amount',
        amount,
      });
    }
    const base = `refund:${orgId}:${idempotencyKey ?? randomUUID()}`;
    const parts = await this.db.transaction(async (m) => {
      const existing = await this.refundParts(m, base);
      if (existing.length > 0) return existing;
      const available = { ownerKey: orgId, kind: 'wallet_available' as const, currency };
      const clearing = { ownerKey: PLATFORM_OWNER, kind: 'stripe_clearing' as const, currency };
      await this.ledger.lockAccounts(m, [available, clearing]);
      const topUps: { id: string; left: string }[] = await m.query(
        `SELECT id, (amount - refunded)::text AS left FROM top_ups
         WHERE org_id = $1 AND currency = $2 AND provider = 'stripe' AND status = 'paid'
           AND payment_intent_id IS NOT NULL AND amount > refunded
         ORDER BY paid_at DESC, id FOR UPDATE`,
        [orgId, currency],
      );
      const plan = allocateRefund(
        money,
        topUps.map((t) => ({ id: t.id, left: Money.of(t.left, currency) })),
      );
      if (!plan) {
        const left = Money.sum(
          topUps.map((t) => Money.of(t.left, currency)),
          currency,
        );
        throw invalidState('the paid Stripe top-ups have less than that left to refund', {
          field: 'amount',
          currency,
          amount: money.toString(),
          refundable: left.toString(),
        });
      }
      const rows: StripeMovementEntity[] = [];
      for (const [i, part] of plan.entries()) {
        const reference = `${base}:${i + 1}`;
        // insufficient_funds (422) when the available balance is lower.
        await this.ledger.post(m, {
          kind: 'refund',
          reference,
          memo: `refund of unused balance (top-up ${part.id}, part ${i + 1} of ${plan.length})`,
          entries: [
            { ...available, amount: part.amount.negated().toString() },
            { ...clearing, amount: part.amount.toString() },
          ],
        });
        await m.query('UPDATE top_ups SET refunded = refunded + $2 WHERE id = $1', [
          part.id,
          part.amount.toString(),
        ]);
        rows.push(
          await m.save(
            m.create(StripeMovementEntity, {
              kind: 'refund' as const,
              orgId,
              currency,
              amount: part.amount.toString(),
              reference,
              topUpId: part.id,
              stripeId: null,
            }),
          ),
        );
      }
      return rows;
    });
    for (const mv of parts) if (!mv.stripeId) await this.send(mv);
    const sent = await this.refundParts(this.db.manager, base);
    const views = sent.map(movementView);
    return {
      id: views[0].id,
      kind: 'refund',
      currency,
      amount: Money.sum(
        sent.map((p) => Money.of(p.amount, currency)),
        currency,
      ).toString(),
      reference: base,
      stripeId: views.length === 1 ? views[0].stripeId : null,
      createdAt: views[0].createdAt,
      parts: views,
    };
  }

  /** The booked parts of the refund `base`, in order (a legacy single-part refund included). */
  private async refundParts(m: EntityManager, base: string): Promise<StripeMovementEntity[]> {
    const rows = await m
      .getRepository(StripeMovementEntity)
      .createQueryBuilder('s')
      .where(`s.kind = 'refund' AND (s.reference = :base OR starts_with(s.reference, :prefix))`, {
        base,
        prefix: `${base}:`,
      })
      .getMany();
    const n = (r: StripeMovementEntity) => Number(r.reference.slice(base.length + 1) || '0');
    return rows.sort((a, b) => n(a) - n(b));
  }

  /** Sends a booked movement to Stripe with its reference as the idempotency key. */
  private async send(mv: StripeMovementEntity): Promise<void> {
    const stripe = this.gateway.stripe;
    const amount = Money.of(mv.amount, mv.currency);
    let stripeId: string;
    if (!stripe) {
      stripeId = `test_mode_${mv.kind}`;
    } else if (mv.kind === 'payout') {
      const account = await this.db
        .getRepository(ConnectAccountEntity)
        .findOneByOrFail({ orgId: mv.orgId });
      const transfer = await stripe.transfers.create(
        {
          amount: toMinorUnits(amount),
          currency: mv.currency.toLowerCase(),
          destination: account.stripeAccountId,
          transfer_group: mv.reference,
          metadata: { reference: mv.reference },
        },
        { idempotencyKey: mv.reference },
      );
      stripeId = transfer.id;
    } else {
      const topUpId =
        mv.topUpId ??
        /top-up ([0-9a-f-]{36})/.exec(
          (
            await this.db.query('SELECT memo FROM ledger_transactions WHERE reference = $1', [
              mv.reference,
            ])
          )[0]?.memo ?? '',
        )?.[1];
      const topUp = topUpId
        ? await this.db.getRepository(TopUpEntity).findOneBy({ id: topUpId })
        : null;
      if (!topUp?.paymentIntentId) throw new Error(`refund ${mv.reference}: no payment intent`);
      const refund = await stripe.refunds.create(
        {
          payment_intent: topUp.paymentIntentId,
          amount: toMinorUnits(amount),
          metadata: { reference: mv.reference },
        },
        { idempotencyKey: mv.reference },
      );
      stripeId = refund.id;
    }
    await this.db
      .getRepository(StripeMovementEntity)
      .update({ id: mv.id, stripeId: IsNull() }, { stripeId });
  }
}

/**
 * Splits a refund over top-ups (given newest first): each takes what it has left, until the
 * amount is covered. Null when they do not have enough left between them.
 */
export function allocateRefund(
  amount: Money,
  topUps: readonly { id: string; left: Money }[],
): { id: string; amount: Money }[] | null {
  const plan: { id: string; amount: Money }[] = [];
  let rest = amount;
  for (const t of topUps) {
    if (!rest.isPositive()) break;
    if (!t.left.isPositive()) continue;
    const take = t.left.lt(rest) ? t.left : rest;
    plan.push({ id: t.id, amount: take });
    rest = rest.minus(take);
  }
  return rest.isPositive() ? null : plan;
}

function movementView(r: StripeMovementEntity): MovementView {
  return {
    id: r.id,
    kind: r.kind,
    currency: r.currency,
    amount: Money.of(r.amount, r.currency).toString(),
    reference: r.reference,
    stripeId: r.stripeId,
    createdAt: r.createdAt.toISOString(),
  };
}
