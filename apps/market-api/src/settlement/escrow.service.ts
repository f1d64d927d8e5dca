import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResourceSpec } from '@suanli/contracts';
import { Money } from '@suanli/money';
import type { ComputeClass } from '@suanli/units';
import { DomainError } from '../common/errors.js';
import type { LeaseEntity } from '../database/market.entities.js';
import { LedgerService, type PostResult } from '../ledger/ledger.service.js';
import { WalletService } from '../ledger/wallet.service.js';
import { escrowHold } from './rating.js';

/** Ledger reference of the escrow hold for the lease's period starting at `periodStart`. */
export const holdReference = (leaseId: string, periodStart: Date): string =>
  `escrow-hold:${leaseId}:${periodStart.toISOString()}`;
/** Ledger reference of the release of what the period's debit note did not use. */
export const releaseReference = (leaseId: string, periodStart: Date): string =>
  `escrow-release:${leaseId}:${periodStart.toISOString()}`;

export interface LeaseResourceContext {
  spec: ResourceSpec;
  computeClass: ComputeClass;
}

type LeaseForEscrow = Pick<
  LeaseEntity,
  'id' | 'buyerOrgId' | 'currency' | 'slots' | 'prices' | 'catalogVersion' | 'startsAt'
> &
  Partial<Pick<LeaseEntity, 'settledUntil'>>;

/**
 * Escrow for leases: one hold per settlement period, keyed by the period's start, so that the
 * settlement job knows exactly what was held for the period it pays.
 */
@Injectable()
export class EscrowService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly wallets: WalletService,
  ) {}

  /** The most one period of the lease can cost, rounded up (settlement.md). */
  holdAmount(lease: LeaseForEscrow, ctx: LeaseResourceContext): Money {
    return escrowHold({
      currency: lease.currency,
      slots: lease.slots,
      prices: lease.prices,
      spec: ctx.spec,
      computeClass: ctx.computeClass,
      catalog: lease.catalogVersion,
    });
  }

  /**
   * Called by the orders service inside its transaction once the lease row exists: holds the
   * first period's escrow (the period starts at `settledUntil`, else `startsAt`). Throws
   * `DomainError('insufficient_funds', 422)` when the wallet can't cover it; idempotent per lease.
   */
  async holdForNewLease(
    manager: EntityManager,
    lease: LeaseForEscrow,
    ctx: LeaseResourceContext,
  ): Promise<Money> {
    if (!lease.id) throw new Error('holdForNewLease needs a saved lease (with an id)');
    const amount = this.holdAmount(lease, ctx);
    await this.takeHold(manager, lease, lease.settledUntil ?? lease.startsAt, amount);
    return amount;
  }

  /** Holds `amount` for the period starting at `periodStart` (nothing when zero). */
  async takeHold(
    manager: EntityManager,
    lease: Pick<LeaseEntity, 'id' | 'buyerOrgId'>,
    periodStart: Date,
    amount: Money,
  ): Promise<PostResult | null> {
    if (amount.isZero()) return null;
    return this.wallets.hold(
      manager,
      lease.buyerOrgId,
      amount,
      holdReference(lease.id, periodStart),
      `escrow for lease ${lease.id} from ${periodStart.toISOString()}`,
    );
  }

  /** What was held for the lease's period starting at `periodStart` (zero if nothing). */
  async heldFor(
    manager: EntityManager,
    lease: Pick<LeaseEntity, 'id' | 'buyerOrgId' | 'currency'>,
    periodStart: Date,
  ): Promise<Money> {
    const amount = await this.ledger.amountPosted(manager, holdReference(lease.id, periodStart), {
      ownerKey: lease.buyerOrgId,
      kind: 'wallet_held',
      currency: lease.currency,
    });
    return Money.of(amount, lease.currency);
  }

  /** Releases `amount` of the period's hold back to available (nothing when zero). */
  async release(
    manager: EntityManager,
    lease: Pick<LeaseEntity, 'id' | 'buyerOrgId'>,
    periodStart: Date,
    amount: Money,
  ): Promise<PostResult | null> {
    if (amount.isZero()) return null;
    return this.wallets.release(
      manager,
      lease.buyerOrgId,
      amount,
      releaseReference(lease.id, periodStart),
      `escrow released for lease ${lease.id} from ${periodStart.toISOString()}`,
    );
  }
}

/** True for the ledger's "the wallet can't cover it" failure. */
export const isInsufficientFunds = (e: unknown): boolean =>
  e instanceof DomainError && e.code === 'insufficient_funds';
