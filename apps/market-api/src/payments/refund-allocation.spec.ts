import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Decimal, Money } from '@suanli/money';
import { allocateRefund } from './payouts.service.js';

const cny = (s: string) => Money.of(s, 'CNY');
/** Cents as a CNY amount, built from integers (no binary float). */
const cents = (n: number) => Money.of(new Decimal(n).div(100), 'CNY');

describe('allocateRefund (a refund drawn from several top-ups)', () => {
  it('takes the newest top-ups first, each up to what it has left', () => {
    const plan = allocateRefund(cny('20.00'), [
      { id: 'new', left: cny('12.34') },
      { id: 'empty', left: cny('0.00') },
      { id: 'old', left: cny('30.00') },
    ]);
    expect(plan?.map((p) => [p.id, p.amount.toString()])).toEqual([
      ['new', '12.34'],
      ['old', '7.66'],
    ]);
    expect(allocateRefund(cny('5.00'), [{ id: 'a', left: cny('9.00') }])?.length).toBe(1);
    expect(allocateRefund(cny('42.35'), [{ id: 'a', left: cny('42.34') }])).toBeNull();
  });

  it('always sums to the amount, never over-draws a top-up, and uses a prefix of them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.integer({ min: 0, max: 500_000 }), { maxLength: 8 }),
        (amount, lefts) => {
          const topUps = lefts.map((l, i) => ({ id: String(i), left: cents(l) }));
          const plan = allocateRefund(cents(amount), topUps);
          const total = lefts.reduce((a, b) => a + b, 0);
          if (total < amount) {
            expect(plan).toBeNull();
            return;
          }
          expect(plan).not.toBeNull();
          const sum = Money.sum(
            plan!.map((p) => p.amount),
            'CNY',
          );
          expect(sum.toString()).toBe(cents(amount).toString());
          const byId = new Map(topUps.map((t) => [t.id, t.left]));
          for (const p of plan!) {
            expect(p.amount.isPositive()).toBe(true);
            expect(p.amount.gt(byId.get(p.id)!)).toBe(false);
          }
          // Every top-up before the last one used is drawn in full (newest first).
          const used = plan!.map((p) => Number(p.id));
          const last = used[used.length - 1];
          for (let i = 0; i < last; i += 1) {
            const part = plan!.find((p) => p.id === String(i));
            expect(part ? part.amount.toString() : '0.00').toBe(byId.get(String(i))!.toString());
          }
        },
      ),
    );
  });
});
