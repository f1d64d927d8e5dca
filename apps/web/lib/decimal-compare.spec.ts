import { describe, expect, it } from '@jest/globals';
import { compareDecimal, permilleOf, toNano } from './decimal-compare';

describe('decimal comparisons', () => {
  it('compares decimal strings exactly, beyond float precision', () => {
    expect(compareDecimal('0.1', '0.10')).toBe(0);
    expect(compareDecimal('12.000000001', '12.000000002')).toBe(-1);
    expect(compareDecimal('9007199254740993.5', '9007199254740993.4')).toBe(1);
    expect(compareDecimal('-1', '0')).toBe(-1);
    expect(compareDecimal('x', '1')).toBe(1);
  });

  it('sizes bars in permille without floats', () => {
    expect(permilleOf('5', '10')).toBe(500);
    expect(permilleOf('10.00', '10')).toBe(1000);
    expect(permilleOf('0', '10')).toBe(0);
    expect(permilleOf('1', '0')).toBe(0);
    expect(toNano('1.5')).toBe(1_500_000_000n);
  });
});
