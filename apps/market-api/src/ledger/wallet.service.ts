import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { WalletView } from '@suanli/contracts';
import { Money } from '@suanli/money';
import { DomainError } from '../common/errors.js';
import { LedgerService, PLATFORM_OWNER, type PostResult } from './ledger.service.js';

/**
 * The buyer's wallet: `wallet_available` (spendable) and `wallet_held` (escrow for running
 * leases) per currency. Total = available + held.
 */
@Injectable()
export class WalletService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
  ) {}

  async view(orgId: string, manager: EntityManager = this.db.manager): Promise<WalletView> {
    const accounts = await this.ledger.balances(orgId, manager);
    const byCurrency = new Map<string, { available: Money; held: Money }>();
    for (const a of accounts) {
      if (a.kind !== 'wallet_available' && a.kind !== 'wallet_held') continue;
      const slot = byCurrency.get(a.currency) ?? {
        available: Money.zero(a.currency),
        held: Money.zero(a.currency),
      };
      if (a.kind === 'wallet_available') slot.available = Money.of(a.balance, a.currency);
      else slot.held = Money.of(a.balance, a.currency);
      byCurrency.set(a.currency, slot);
    }
    return {
      balances: [...byCurrency.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([currency, { available, held }]) => ({
          currency,
          available: available.toString(),
          held: held.toString(),
          total: available.plus(held).toString(),
        })),
    };
  }

  /**
   * TEST-MODE FUNDING: credits `amount` to the org's available balance out of the platform's
   * `test_funding` account (no real money moves). The local default top-up used by the seed,
   * tests and operators until Stripe top-ups land. Idempotent on `reference`.
   */
  credit(
    orgId: string,
    currency: string,
    amount: string,
    reference: string,
    memo?: string,
  ): Promise<PostResult> {
    return this.db.transaction((manager) =>
      this.creditIn(manager, orgId, currency, amount, reference, memo),
    );
  }

  /** `credit` in the caller's transaction. */
  async creditIn(
    manager: EntityManager,
    orgId: string,
    currency: string,
    amount: string,
    reference: string,
    memo = 'test-mode funding (no real money)',
  ): Promise<PostResult> {
    const m = positive(amount, currency);
    const posted = await this.ledger.post(manager, {
      kind: 'wallet_credit_test_mode',
      reference,
      memo,
      entries: [
        {
          ownerKey: PLATFORM_OWNER,
          kind: 'test_funding',
          currency,
          amount: m.negated().toString(),
        },
        { ownerKey: orgId, kind: 'wallet_available', currency, amount: m.toString() },
      ],
    });
    if (!posted.duplicate) await this.collectReceivable(manager, orgId, currency);
    return posted;
  }

  /**
   * Pays what the org owes (`buyer_receivable` < 0, from usage beyond an escrow hold that its
   * wallet could not cover) out of its available balance, as far as it goes. Every top-up
   * calls this; a no-op when nothing is owed or nothing is available.
   */
  async collectReceivable(
    manager: EntityManager,
    orgId: string,
    currency: string,
  ): Promise<PostResult | null> {
    const available = { ownerKey: orgId, kind: 'wallet_available' as const, currency };
    const receivable = { ownerKey: orgId, kind: 'buyer_receivable' as const, currency };
    // Most wallets never owe anything: look before creating and locking accounts.
    if (!(await this.owed(manager, orgId, currency)).isPositive()) return null;
    await this.ledger.lockAccounts(manager, [available, receivable]);
    const owed = Money.of(await this.ledger.balanceOf(manager, receivable), currency).negated();
    const has = Money.of(await this.ledger.balanceOf(manager, available), currency);
    const pay = owed.lt(has) ? owed : has;
    if (!pay.isPositive()) return null;
    return this.ledger.post(manager, {
      kind: 'receivable_payment',
      reference: `receivable-payment:${orgId}:${currency}:${randomUUID()}`,
      memo: 'usage beyond escrow, paid from the wallet',
      entries: [
        { ...available, amount: pay.negated().toString() },
        { ...receivable, amount: pay.toString() },
      ],
    });
  }

  /** What the org owes (a non-negative amount). */
  async owed(manager: EntityManager, orgId: string, currency: string): Promise<Money> {
    const balance = await this.ledger.balanceOf(manager, {
      ownerKey: orgId,
      kind: 'buyer_receivable',
      currency,
    });
    return Money.of(balance, currency).negated();
  }

  /** Moves `amount` from available to held (escrow); insufficient_funds when it can't. */
  hold(
    manager: EntityManager,
    orgId: string,
    amount: Money,
    reference: string,
    memo?: string,
  ): Promise<PostResult> {
    return this.move(manager, orgId, amount, reference, 'escrow_hold', memo, 'wallet_available');
  }

  /** Moves `amount` from held back to available. */
  release(
    manager: EntityManager,
    orgId: string,
    amount: Money,
    reference: string,
    memo?: string,
  ): Promise<PostResult> {
    return this.move(manager, orgId, amount, reference, 'escrow_release', memo, 'wallet_held');
  }

  private move(
    manager: EntityManager,
    orgId: string,
    amount: Money,
    reference: string,
    kind: string,
    memo: string | undefined,
    from: 'wallet_available' | 'wallet_held',
  ): Promise<PostResult> {
    const to = from === 'wallet_available' ? 'wallet_held' : 'wallet_available';
    const m = positive(amount.toString(), amount.currency);
    return this.ledger.post(manager, {
      kind,
      reference,
      memo,
      entries: [
        { ownerKey: orgId, kind: from, currency: m.currency, amount: m.negated().toString() },
        { ownerKey: orgId, kind: to, currency: m.currency, amount: m.toString() },
      ],
    });
  }
}

function positive(amount: string, currency: string): Money {
  const m = Money.of(amount, currency);
  if (!m.isPositive() || !m.isAtMinorPrecision()) {
    throw new DomainError(
      'validation_failed',
      `amount must be positive and in whole ${currency} minor units`,
      400,
      { amount },
    );
  }
  return m;
}
