import { describe, expect, it } from '@jest/globals';
import { reconcile, type LedgerMovement, type StripeMovement } from './reconciliation.service.js';

import { fromMinorUnits, Money, toMinorUnits } from '@suanli/money';

const L = (
  kind: LedgerMovement['kind'],
  stripeId: string | null,
  amount: string,
): LedgerMovement => ({
  kind,
  reference: `${kind}:${stripeId ?? 'x'}`,
  stripeId,
  currency: 'CNY',
  amount,
});
const S = (
  id: string,
  source: string,
  amount: string,
  paymentIntent: string | null = null,
): StripeMovement => ({
  id,
  type: 'charge',
  source,
  paymentIntent,
  currency: 'CNY',
  amount,
});

describe('reconcile', () => {
  it('matches by Stripe object and amount and lists every difference', () => {
    const ledger = [
      L('top_up', 'pi_1', '50.00'), // matched through the charge's payment intent
      L('payout', 'tr_1', '-20.00'), // matched by source
      L('refund', 're_1', '-5.00'), // amount differs
      L('payout', 'tr_2', '-1.00'), // missing in Stripe
      L('payout', null, '-3.00'), // booked, never sent
    ];
    const stripe = [
      S('txn_1', 'ch_1', '50.00', 'pi_1'),
      S('txn_2', 'tr_1', '-20.00'),
      S('txn_3', 're_1', '-5.01'),
      S('txn_4', 'ch_9', '7.00', 'pi_9'), // missing in the ledger
    ];
    const r = reconcile(ledger, stripe);
    expect(r.matched).toBe(2);
    expect(r.differences.map((d) => d.kind)).toEqual([
      'amount_mismatch',
      'missing_in_stripe',
      'not_sent',
      'missing_in_ledger',
    ]);
  });

  it('converts to and from Stripe minor units exactly', () => {
    expect(toMinorUnits(Money.of('12.34', 'CNY'))).toBe(1234);
    expect(toMinorUnits(Money.of('1000', 'JPY'))).toBe(1000);
    expect(fromMinorUnits(1234, 'cny').toString()).toBe('12.34');
    expect(() => toMinorUnits(Money.of('0.001', 'USD'))).toThrow();
  });
});
