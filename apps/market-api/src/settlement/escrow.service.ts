import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResourceSpec } from '@suanli/contracts';
import { Money } from '@suanli/money';
import type { ComputeClass } from '@suanli/units';
import { DomainError } from '../common/errors.js';
import type { LeaseEntity } from '../database/market.entities.js';
import {
  DebitNoteEntity,
  LeaseTermsEntity,
  type SlaTerms,
} from '../database/settlement.entities.js';
import {
  LedgerService,
  PLATFORM_OWNER,
  type LedgerEntryInput,
  type PostResult,
} from '../ledger/ledger.service.js';
import { WalletService } from '../ledger/wallet.service.js';
import { MoneyEvents } from '../events/money-events.js';
import { currentCorrelationId } from '../observability/correlation-context.js';
import { escrowHold, rateReservedBlock, validatePriceRow } from './rating.js';
import { validateSla } from './sla.js';

/** Ledger reference of a reserved lease's prepaid block (its own debit note). */
export const reservedBlockReference = (leaseId: string): string => `reserved-block:${leaseId}`;

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
  Partial<Pick<LeaseEntity, 'settledUntil' | 'sellerOrgId' | 'endsAt' | 'takeRate'>>;

/** Terms pinned at order time beyond the lease row (absent = defaults). */
export interface PinnedTerms {
  /** The offer's SLA (availability target and credit schedule), percentages. */
  sla?: SlaTerms | null;
}

/**
 * Escrow for leases: one hold per settlement period, keyed by the period's start, so that the
 * settlement job knows exactly what was held for the period it pays.
 */
@Injectable()
export class EscrowService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly wallets: WalletService,
    private readonly events: MoneyEvents,
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
    terms: PinnedTerms = {},
  ): Promise<Money> {
    if (!lease.id) throw new Error('holdForNewLease needs a saved lease (with an id)');
    lease.prices.forEach(validatePriceRow);
    if (terms.sla) {
      await manager.upsert(LeaseTermsEntity, { leaseId: lease.id, sla: validateSla(terms.sla) }, [
        'leaseId',
      ]);
    }
    await this.prepayReservedBlock(manager, lease);
    const amount = this.holdAmount(lease, ctx);
    await this.takeHold(manager, lease, lease.settledUntil ?? lease.startsAt, amount);
    return amount;
  }

  /**
   * `reserved` prices: the prepaid block is paid when the order is placed, from the wallet's
   * available balance, as a debit note of its own (kind `reserved_block`). Idempotent per
   * lease; `insufficient_funds` when the wallet can't pay it.
   */
  async prepayReservedBlock(manager: EntityManager, lease: LeaseForEscrow): Promise<void> {
    const takeRate = lease.takeRate;
    const rated = rateReservedBlock({
      currency: lease.currency,
      prices: lease.prices,
      takeRate: takeRate ?? '0',
    });
    if (!rated) return;
    if (!lease.sellerOrgId || !lease.endsAt || takeRate === undefined) {
      throw new Error('a reserved lease needs sellerOrgId, endsAt and takeRate');
    }
    const cur = lease.currency;
    const gross = Money.of(rated.gross, cur);
    const posted = await this.ledger.post(manager, {
      kind: 'debit_note',
      reference: reservedBlockReference(lease.id),
      memo: `lease ${lease.id}: prepaid reserved block`,
      entries: (
        [
          {
            ownerKey: lease.buyerOrgId,
            kind: 'wallet_available',
            currency: cur,
            amount: gross.negated().toString(),
          },
          {
            ownerKey: lease.sellerOrgId,
            kind: 'seller_payable',
            currency: cur,
            amount: rated.net,
          },
          { ownerKey: PLATFORM_OWNER, kind: 'platform_revenue', currency: cur, amount: rated.fee },
        ] satisfies LedgerEntryInput[]
      ).filter((e) => !Money.of(e.amount, cur).isZero()),
    });
    if (posted.duplicate) return;
    const note = {
      leaseId: lease.id,
      kind: 'reserved_block' as const,
      periodStart: lease.startsAt,
      periodEnd: lease.endsAt,
      currency: cur,
      lines: rated.lines,
      gross: rated.gross,
      fee: rated.fee,
      net: rated.net,
      transactionId: posted.transactionId,
      // Paid while the order is placed: the order request's id is the lease's originating one.
      correlationId: currentCorrelationId() ?? null,
    };
    const inserted = await manager.insert(DebitNoteEntity, note);
    const { id, createdAt } = inserted.generatedMaps[0] as { id: string; createdAt: Date };
    await this.events.emit(manager, 'debit-notes.issued', {
      notes: [
        { ...note, id, createdAt, sellerOrgId: lease.sellerOrgId, buyerOrgId: lease.buyerOrgId },
      ],
    });
  }

  /**
   * Holds `amount` for the lease's period starting at `periodStart` (nothing when zero), and
   * counts it in the lease's `escrow_held`.
   */
  async takeHold(
    manager: EntityManager,
    lease: Pick<LeaseEntity, 'id' | 'buyerOrgId'>,
    periodStart: Date,
    amount: Money,
  ): Promise<PostResult | null> {
    if (amount.isZero()) return null;
    const posted = await this.wallets.hold(
      manager,
      lease.buyerOrgId,
      amount,
      holdReference(lease.id, periodStart),
      `escrow for lease ${lease.id} from ${periodStart.toISOString()}`,
    );
    if (!posted.duplicate) await this.moveHeld(manager, lease.id, amount);
    return posted;
  }

  /**
   * Releases `amount` of what is held for the lease back to available (nothing when zero); the
   * reference names the period the hold was for.
   */
  async release(
    manager: EntityManager,
    lease: Pick<LeaseEntity, 'id' | 'buyerOrgId'>,
    periodStart: Date,
    amount: Money,
  ): Promise<PostResult | null> {
    if (amount.isZero()) return null;
    const posted = await this.wallets.release(
      manager,
      lease.buyerOrgId,
      amount,
      releaseReference(lease.id, periodStart),
      `escrow released for lease ${lease.id} from ${periodStart.toISOString()}`,
    );
    if (!posted.duplicate) await this.moveHeld(manager, lease.id, amount.negated());
    return posted;
  }

  private async moveHeld(manager: EntityManager, leaseId: string, by: Money): Promise<void> {
    await manager.query('UPDATE leases SET escrow_held = escrow_held + $2 WHERE id = $1', [
      leaseId,
      by.toString(),
    ]);
  }
}

/** True for the ledger's "the wallet can't cover it" failure. */
export const isInsufficientFunds = (e: unknown): boolean =>
  e instanceof DomainError && e.code === 'insufficient_funds';
