import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { fromMinorUnits, Money } from '@suanli/money';
import { Clock } from '../common/clock.js';
import { StripeGateway } from './stripe.client.js';

/** One money movement the ledger says went through Stripe. */
export interface LedgerMovement {
  kind: 'top_up' | 'payout' | 'refund';
  reference: string;
  /** The Stripe object it should match: payment intent, transfer or refund id. */
  stripeId: string | null;
  currency: string;
  /** Signed from the platform's Stripe balance view: top-ups +, payouts and refunds −. */
  amount: string;
}

/** One Stripe balance transaction, reduced to what reconciliation compares. */
export interface StripeMovement {
  id: string;
  type: string;
  /** The source object id (`ch_…`, `tr_…`, `re_…`) and, for charges, its payment intent. */
  source: string | null;
  paymentIntent: string | null;
  currency: string;
  amount: string;
}

export type Difference =
  | { kind: 'missing_in_stripe'; ledger: LedgerMovement }
  | { kind: 'missing_in_ledger'; stripe: StripeMovement }
  | { kind: 'amount_mismatch'; ledger: LedgerMovement; stripe: StripeMovement }
  | { kind: 'not_sent'; ledger: LedgerMovement };

export interface ReconciliationReport {
  generatedAt: string;
  testMode: boolean;
  ledgerMovements: number;
  stripeTransactions: number;
  matched: number;
  /** Every difference, none left out. */
  differences: Difference[];
  /** Per currency: Σ ledger movements and Σ Stripe balance transactions (gross). */
  totals: { currency: string; ledger: string; stripe: string }[];
}

/**
 * Pure matching of ledger movements against Stripe balance transactions: a movement matches the
 * balance transaction whose source is its Stripe object (for top-ups, the charge of its payment
 * intent) with the same currency and signed amount; everything else is a difference.
 */
export function reconcile(
  ledger: readonly LedgerMovement[],
  stripe: readonly StripeMovement[],
): { matched: number; differences: Difference[] } {
  const differences: Difference[] = [];
  const used = new Set<string>();
  let matched = 0;
  for (const mv of ledger) {
    if (!mv.stripeId) {
      differences.push({ kind: 'not_sent', ledger: mv });
      continue;
    }
    const bt = stripe.find(
      (s) => !used.has(s.id) && (s.source === mv.stripeId || s.paymentIntent === mv.stripeId),
    );
    if (!bt) {
      differences.push({ kind: 'missing_in_stripe', ledger: mv });
      continue;
    }
    used.add(bt.id);
    if (
      bt.currency !== mv.currency ||
      !Money.of(bt.amount, bt.currency).equals(Money.of(mv.amount, mv.currency))
    ) {
      differences.push({ kind: 'amount_mismatch', ledger: mv, stripe: bt });
    } else {
      matched += 1;
    }
  }
  for (const s of stripe) {
    if (!used.has(s.id)) differences.push({ kind: 'missing_in_ledger', stripe: s });
  }
  return { matched, differences };
}

/** The operator's reconciliation report: the ledger's Stripe movements vs Stripe's balance. */
@Injectable()
export class ReconciliationService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
  ) {}

  async report(): Promise<ReconciliationReport> {
    const ledger = await this.ledgerMovements();
    const stripe = await this.stripeMovements();
    const { matched, differences } = reconcile(ledger, stripe);
    const totals = new Map<string, { ledger: Money; stripe: Money }>();
    const slot = (cur: string) => {
      const t = totals.get(cur) ?? { ledger: Money.zero(cur), stripe: Money.zero(cur) };
      totals.set(cur, t);
      return t;
    };
    for (const l of ledger)
      slot(l.currency).ledger = slot(l.currency).ledger.plus(Money.of(l.amount, l.currency));
    for (const s of stripe)
      slot(s.currency).stripe = slot(s.currency).stripe.plus(Money.of(s.amount, s.currency));
    return {
      generatedAt: this.clock.now().toISOString(),
      testMode: this.gateway.stripe === null,
      ledgerMovements: ledger.length,
      stripeTransactions: stripe.length,
      matched,
      differences,
      totals: [...totals.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([currency, t]) => ({
          currency,
          ledger: t.ledger.toString(),
          stripe: t.stripe.toString(),
        })),
    };
  }

  /** Stripe top-ups credited, payouts and refunds booked (test-mode ones never touch Stripe). */
  private async ledgerMovements(): Promise<LedgerMovement[]> {
    const rows: {
      kind: LedgerMovement['kind'];
      reference: string;
      stripe_id: string | null;
      currency: string;
      amount: string;
    }[] = await this.db.query(
      `SELECT 'top_up' AS kind, 'top-up:' || id AS reference, payment_intent_id AS stripe_id,
                currency, amount::text AS amount, paid_at AS at
           FROM top_ups WHERE provider = 'stripe' AND status = 'paid'
         UNION ALL
         SELECT kind, reference, stripe_id, currency, (-amount)::text, created_at
           FROM stripe_movements WHERE stripe_id IS NULL OR stripe_id NOT LIKE 'test_mode%'
         ORDER BY at, reference`,
    );
    return rows.map((r) => ({
      kind: r.kind,
      reference: r.reference,
      stripeId: r.stripe_id,
      currency: r.currency.trim(),
      amount: Money.of(r.amount, r.currency.trim()).toString(),
    }));
  }

  private async stripeMovements(): Promise<StripeMovement[]> {
    const stripe = this.gateway.stripe;
    if (!stripe) return [];
    const out: StripeMovement[] = [];
    for await (const bt of stripe.balanceTransactions.list({
      limit: 100,
      expand: ['data.source'],
    })) {
      out.push(balanceMovement(bt));
      if (out.length >= 10_000) break;
    }
    return out;
  }
}

function balanceMovement(bt: Stripe.BalanceTransaction): StripeMovement {
  const src = bt.source as unknown;
  let source: string | null = null;
  let paymentIntent: string | null = null;
  if (typeof src === 'string') source = src;
  else if (src && typeof src === 'object' && 'id' in src) {
    source = String((src as { id: string }).id);
    const pi = (src as { payment_intent?: unknown }).payment_intent;
    if (typeof pi === 'string') paymentIntent = pi;
    else if (pi && typeof pi === 'object' && 'id' in pi)
      paymentIntent = String((pi as { id: string }).id);
  }
  const m = fromMinorUnits(bt.amount, bt.currency);
  return {
    id: bt.id,
    type: bt.type,
    source,
    paymentIntent,
    currency: m.currency,
    amount: m.toString(),
  };
}
