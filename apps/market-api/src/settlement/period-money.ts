import { Money } from '@suanli/money';
import type { LedgerEntryInput, LedgerPosting } from '../ledger/ledger.service.js';
import { PLATFORM_OWNER } from '../ledger/ledger.service.js';

// Pure rules of a settled period's money (settlement.md, "Settlement cycle"), shared by the
// per-lease step and the batched run so that both write exactly the same posting.

/** Ledger reference of the debit note for the lease's period starting at `periodStart`. */
export const debitNoteReference = (leaseId: string, periodStart: Date): string =>
  `debit-note:${leaseId}:${periodStart.toISOString()}`;

export interface PeriodMoneyInput {
  lease: { id: string; buyerOrgId: string; sellerOrgId: string; currency: string };
  period: { start: Date; end: Date };
  /** The rated period: gross, fee, net. */
  rated: { gross: string; fee: string; net: string };
  /** What the wallet holds for this period (the lease's `escrow_held`). */
  held: Money;
  /** The wallet's available balance before this period's posting. */
  available: Money;
  /**
   * The next period's hold when the lease continues after this period (the most a clock hour
   * can cost); null when this is its last period.
   */
  nextHold: Money | null;
}

export interface PeriodMoney {
  /** The period's one posting: the note paid, the rest of its hold released, the next held. */
  posting: LedgerPosting;
  /** What the wallet holds for the lease afterwards (0 when it ends or is suspended). */
  heldAfter: Money;
  /** Paid from the period's hold, from available, and what is owed (receivable). */
  fromHeld: Money;
  fromAvailable: Money;
  owed: Money;
  /** The wallet's available balance afterwards. */
  availableAfter: Money;
  /**
   * Why a continuing lease stops here: usage beyond what the wallet could pay (`owes`), or a
   * next hold the wallet cannot cover (`no_hold`); null when it goes on (or ends).
   */
  suspend: 'owes' | 'no_hold' | null;
}

/**
 * The period's money: paid from its hold, usage beyond it from the available balance, what even
 * that cannot cover booked as owed (`buyer_receivable`); the rest of the hold released and the
 * next period's hold taken, all in ONE posting (reference `debit-note:<lease>:<start>`). A
 * continuing lease that owes, or whose wallet cannot cover the next hold, is to be suspended:
 * then nothing stays held. Wallets never go below zero.
 */
export function periodMoney(input: PeriodMoneyInput): PeriodMoney {
  const { lease, period, held, available } = input;
  const cur = lease.currency;
  const gross = Money.of(input.rated.gross, cur);
  const fromHeld = gross.lt(held) ? gross : held;
  const rest = gross.minus(fromHeld);
  const fromAvailable = rest.lt(available) ? rest : available;
  const owed = rest.minus(fromAvailable);
  const released = held.minus(fromHeld);
  let availableAfter = available.minus(fromAvailable).plus(released);
  let heldAfter = Money.zero(cur);
  let suspend: PeriodMoney['suspend'] = null;
  if (input.nextHold) {
    if (owed.isPositive()) suspend = 'owes';
    else if (availableAfter.lt(input.nextHold)) suspend = 'no_hold';
    else {
      heldAfter = input.nextHold;
      availableAfter = availableAfter.minus(heldAfter);
    }
  }
  const entry = (ownerKey: string, kind: LedgerEntryInput['kind'], m: Money): LedgerEntryInput => ({
    ownerKey,
    kind,
    currency: cur,
    amount: m.toString(),
  });
  const entries = [
    entry(lease.buyerOrgId, 'wallet_held', heldAfter.minus(held)),
    entry(lease.buyerOrgId, 'wallet_available', availableAfter.minus(available)),
    entry(lease.buyerOrgId, 'buyer_receivable', owed.negated()),
    entry(lease.sellerOrgId, 'seller_payable', Money.of(input.rated.net, cur)),
    entry(PLATFORM_OWNER, 'platform_revenue', Money.of(input.rated.fee, cur)),
  ].filter((e) => !Money.of(e.amount, cur).isZero());
  const span = `${period.start.toISOString()}–${period.end.toISOString()}`;
  return {
    posting: {
      kind: 'debit_note',
      reference: debitNoteReference(lease.id, period.start),
      memo: `lease ${lease.id}, ${span}; escrow ${held.toString()} → ${heldAfter.toString()}`,
      entries,
    },
    heldAfter,
    fromHeld,
    fromAvailable,
    owed,
    availableAfter,
    suspend,
  };
}

/**
 * Milliseconds of [from, to) during which an interruptible lease was paused, from its recorded
 * pauses (an open one, `resumedAt` null, runs on).
 */
export function pausedWithin(
  pauses: readonly { pausedAt: Date; resumedAt: Date | null }[],
  from: Date,
  to: Date,
): number {
  let ms = 0;
  for (const p of pauses) {
    const start = Math.max(p.pausedAt.getTime(), from.getTime());
    const end = Math.min(p.resumedAt?.getTime() ?? to.getTime(), to.getTime());
    if (end > start) ms += end - start;
  }
  return ms;
}
