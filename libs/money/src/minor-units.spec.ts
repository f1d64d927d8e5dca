import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fromMinorUnits, Money, toMinorUnits } from './index.js';

describe('minor units', () => {
  it('round-trips every safe integer of minor units exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom('CNY', 'USD', 'JPY', 'EUR'),
        (minor, currency) => {
          expect(toMinorUnits(fromMinorUnits(minor, currency))).toBe(minor);
        },
      ),
    );
  });

  it('refuses what a JS number cannot hold exactly', () => {
    expect(() => fromMinorUnits(0.5, 'cny')).toThrow(RangeError);
    expect(() => fromMinorUnits(2 ** 53, 'cny')).toThrow(RangeError);
    expect(() => toMinorUnits(Money.of('90071992547409.92', 'CNY'))).toThrow(RangeError);
    expect(() => toMinorUnits(Money.of('0.001', 'CNY'))).toThrow(RangeError);
    expect(fromMinorUnits(1200, 'jpy').toString()).toBe('1200');
  });
});
