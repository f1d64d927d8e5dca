import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  Decimal,
  fee,
  minorUnitDigits,
  Money,
  MoneyError,
  parseDecimal,
  roundCeil,
  roundHalfEven,
  toDecimal,
} from './index.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof MoneyError ? e.code : `not a MoneyError: ${String(e)}`;
  }
  return undefined;
}

/** Decimal strings with up to 12 integer and 12 fraction digits, either sign. */
const decimalString = fc
  .tuple(
    fc.boolean(),
    fc.bigInt({ min: 0n, max: 10n ** 12n }),
    fc.option(fc.stringMatching(/^\d{1,12}$/), { nil: undefined }),
  )
  .map(([neg, int, frac]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);

const currency = fc.constantFrom('CNY', 'USD', 'JPY', 'KWD', 'EUR');

describe('Decimal', () => {
  it('is configured with 60 digits, half-even and plain strings', () => {
    expect(Decimal.precision).toBe(60);
    expect(Decimal.rounding).toBe(Decimal.ROUND_HALF_EVEN);
    expect(new Decimal('1e-20').toString()).toBe('0.00000000000000000001');
    expect(new Decimal('1e30').toString()).toBe('1000000000000000000000000000000');
    expect(new Decimal(1).div(3).toString()).toBe(`0.${'3'.repeat(60)}`);
  });

  it('does not change the global decimal.js configuration', async () => {
    const { Decimal: Global } = await import('decimal.js');
    expect(Global.precision).toBe(20);
  });
});

describe('parseDecimal', () => {
  it.each(['0', '-0', '12', '12.50', '-0.131866667', '007.5', '123456789012345678901234567890.1'])(
    'accepts %s',
    (s) => {
      expect(parseDecimal(s).eq(new Decimal(s))).toBe(true);
    },
  );

  it.each([
    '',
    ' ',
    ' 1',
    '1 ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e5',
    '1E5',
    '+1',
    '.5',
    '5.',
    '1,5',
    '0x10',
    '--1',
    '1.2.3',
    '١',
  ])('rejects %j', (s) => {
    expect(code(() => parseDecimal(s))).toBe('invalid_decimal');
  });

  it('rejects numbers, binary floats included, and other non-strings', () => {
    expect(code(() => parseDecimal(0.1 as unknown as string))).toBe('invalid_decimal');
    expect(code(() => parseDecimal(1 as unknown as string))).toBe('invalid_decimal');
    expect(code(() => parseDecimal(null as unknown as string))).toBe('invalid_decimal');
  });

  it('normalizes -0 to 0', () => {
    expect(parseDecimal('-0.00').isNegative()).toBe(false);
  });

  it('round-trips every plain decimal string numerically', () => {
    fc.assert(
      fc.property(decimalString, (s) => {
        expect(parseDecimal(s).eq(new Decimal(s))).toBe(true);
      }),
    );
  });
});

describe('toDecimal', () => {
  it('accepts safe integers, bigints and Decimals (of any clone), rejects floats', () => {
    expect(toDecimal(42).toString()).toBe('42');
    expect(toDecimal(10n ** 30n).toString()).toBe(`1${'0'.repeat(30)}`);
    expect(toDecimal(new Decimal('1.5')).toString()).toBe('1.5');
    expect(code(() => toDecimal(0.05))).toBe('invalid_decimal');
    expect(code(() => toDecimal(Number.MAX_SAFE_INTEGER + 1))).toBe('invalid_decimal');
    expect(code(() => toDecimal(Number.NaN))).toBe('invalid_decimal');
    expect(code(() => toDecimal(new Decimal(Number.POSITIVE_INFINITY)))).toBe('invalid_decimal');
  });
});

describe('roundHalfEven (GB/T 8170 四舍六入五成双)', () => {
  it.each([
    ['2.345', 2, '2.34'],
    ['2.355', 2, '2.36'],
    ['2.3451', 2, '2.35'],
    ['2.3449', 2, '2.34'],
    ['-2.345', 2, '-2.34'],
    ['-2.355', 2, '-2.36'],
    ['0.5', 0, '0'],
    ['1.5', 0, '2'],
    ['2.5', 0, '2'],
    ['1350', 0, '1350'],
    ['0.1318666666', 9, '0.131866667'],
  ])('%s to %i dp → %s', (input, dp, expected) => {
    expect(roundHalfEven(input, dp).toFixed(dp)).toBe(expected);
  });

  it('rejects negative or fractional decimal places', () => {
    expect(() => roundHalfEven('1', -1)).toThrow(RangeError);
    expect(() => roundHalfEven('1', 1.5)).toThrow(RangeError);
  });

  it('is within half a unit of the last place and ties go to even', () => {
    fc.assert(
      fc.property(decimalString, fc.integer({ min: 0, max: 6 }), (s, dp) => {
        const exact = new Decimal(s);
        const r = roundHalfEven(s, dp);
        const half = new Decimal(10).pow(-dp).div(2);
        const diff = r.minus(exact).abs();
        expect(diff.lte(half)).toBe(true);
        expect(r.decimalPlaces()).toBeLessThanOrEqual(dp);
        if (diff.eq(half)) {
          // A tie: the last kept digit is even.
          const lastDigit = r.times(new Decimal(10).pow(dp)).abs().mod(10).toNumber();
          expect(lastDigit % 2).toBe(0);
        }
      }),
    );
  });

  it('roundCeil is ≥ the exact value and less than one unit above it', () => {
    fc.assert(
      fc.property(decimalString, fc.integer({ min: 0, max: 6 }), (s, dp) => {
        const r = roundCeil(s, dp);
        expect(r.gte(s)).toBe(true);
        expect(r.minus(s).lt(new Decimal(10).pow(-dp))).toBe(true);
      }),
    );
  });
});

describe('minorUnitDigits', () => {
  it.each([
    ['CNY', 2],
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['BHD', 3],
    ['KWD', 3],
    ['OMR', 3],
  ])('%s has %i', (c, digits) => {
    expect(minorUnitDigits(c)).toBe(digits);
  });

  it.each(['cny', 'CN', 'CNYY', '', '12A', 'Cny'])('rejects %j', (c) => {
    expect(code(() => minorUnitDigits(c))).toBe('invalid_currency');
    expect(code(() => Money.zero(c))).toBe('invalid_currency');
  });
});

describe('Money', () => {
  it('formats at minor precision or exactly', () => {
    expect(Money.of('12.5', 'CNY').toString()).toBe('12.50');
    expect(Money.of('12', 'USD').toString()).toBe('12.00');
    expect(Money.of('0.131866667', 'CNY').toString()).toBe('0.131866667');
    expect(Money.of('1200', 'JPY').toString()).toBe('1200');
    expect(Money.of('1200.5', 'JPY').toString()).toBe('1200.5');
    expect(Money.of('1.2', 'KWD').toString()).toBe('1.200');
    expect(Money.of('-0', 'CNY').toString()).toBe('0.00');
    expect(Money.of('-3.1', 'CNY').toString()).toBe('-3.10');
    expect(Money.of('0.000000000001', 'CNY').toString()).toBe('0.000000000001');
  });

  it('serializes to JSON with a string amount', () => {
    expect(JSON.stringify(Money.of('9.5', 'CNY'))).toBe('{"amount":"9.50","currency":"CNY"}');
    expect(Money.fromJSON({ amount: '9.50', currency: 'CNY' }).equals(Money.of('9.5', 'CNY'))).toBe(
      true,
    );
  });

  it('is immutable', () => {
    const m = Money.of('1', 'CNY');
    expect(Object.isFrozen(m)).toBe(true);
    m.plus(Money.of('2', 'CNY'));
    expect(m.toString()).toBe('1.00');
  });

  it('rejects binary floats and bad amounts', () => {
    expect(code(() => Money.of(0.1, 'CNY'))).toBe('invalid_decimal');
    expect(code(() => Money.of('1e3', 'CNY'))).toBe('invalid_decimal');
    expect(code(() => Money.of('1', 'cny'))).toBe('invalid_currency');
    expect(Money.of(5, 'CNY').toString()).toBe('5.00');
  });

  it('adds, subtracts and multiplies exactly', () => {
    const a = Money.of('0.1', 'CNY');
    const b = Money.of('0.2', 'CNY');
    expect(a.plus(b).equals(Money.of('0.3', 'CNY'))).toBe(true);
    expect(a.minus(b).toString()).toBe('-0.10');
    expect(Money.of('8.00', 'CNY').times('0.016483333').toString()).toBe('0.131866664');
    expect(Money.of('1.00', 'CNY').times(new Decimal(1).div(3)).amount.toString()).toBe(
      `0.${'3'.repeat(60)}`,
    );
    expect(a.negated().toString()).toBe('-0.10');
    expect(code(() => a.times(0.5))).toBe('invalid_decimal');
  });

  it('throws currency_mismatch across currencies', () => {
    const cny = Money.of('1', 'CNY');
    const usd = Money.of('1', 'USD');
    expect(code(() => cny.plus(usd))).toBe('currency_mismatch');
    expect(code(() => cny.minus(usd))).toBe('currency_mismatch');
    expect(code(() => cny.compare(usd))).toBe('currency_mismatch');
    expect(code(() => cny.gte(usd))).toBe('currency_mismatch');
    expect(code(() => Money.sum([cny, usd], 'CNY'))).toBe('currency_mismatch');
    expect(code(() => Money.sum([cny], 'USD'))).toBe('currency_mismatch');
    expect(cny.equals(usd)).toBe(false);
  });

  it('rounds to the minor unit half-even and up', () => {
    expect(Money.of('2.345', 'CNY').roundHalfEven().toString()).toBe('2.34');
    expect(Money.of('2.355', 'CNY').roundHalfEven().toString()).toBe('2.36');
    expect(Money.of('2.3451', 'CNY').roundHalfEven().toString()).toBe('2.35');
    expect(Money.of('1350.5', 'JPY').roundHalfEven().toString()).toBe('1350');
    expect(Money.of('1.0005', 'KWD').roundHalfEven().toString()).toBe('1.000');
    expect(Money.of('2.341', 'CNY').roundUp().toString()).toBe('2.35');
    expect(Money.of('-2.349', 'CNY').roundUp().toString()).toBe('-2.34');
    expect(Money.of('2.34', 'CNY').roundUp().toString()).toBe('2.34');
    expect(Money.of('0.1', 'JPY').roundUp().toString()).toBe('1');
  });

  it('compares', () => {
    const one = Money.of('1', 'CNY');
    const two = Money.of('2.00', 'CNY');
    expect(one.compare(two)).toBe(-1);
    expect(two.compare(one)).toBe(1);
    expect(one.compare(Money.of('1.000', 'CNY'))).toBe(0);
    expect(one.lte(two) && two.gte(one) && one.lt(two) && two.gt(one)).toBe(true);
    expect(one.gte(one) && one.lte(one)).toBe(true);
    expect(Money.zero('CNY').isZero()).toBe(true);
    expect(Money.zero('CNY').isNegative() || Money.zero('CNY').isPositive()).toBe(false);
    expect(Money.of('-0.01', 'CNY').isNegative()).toBe(true);
    expect(Money.of('0.01', 'CNY').isPositive()).toBe(true);
  });

  it('sums an empty list to zero', () => {
    expect(Money.sum([], 'USD').toJSON()).toEqual({ amount: '0.00', currency: 'USD' });
  });
});

describe('Money properties', () => {
  const money = fc.tuple(decimalString, currency);

  it('sum of parts equals the whole, in any order', () => {
    fc.assert(
      fc.property(currency, fc.array(decimalString, { maxLength: 20 }), (c, amounts) => {
        const parts = amounts.map((a) => Money.of(a, c));
        const total = amounts.reduce((acc, a) => acc.plus(a), new Decimal(0));
        expect(Money.sum(parts, c).amount.eq(total)).toBe(true);
        expect(Money.sum([...parts].reverse(), c).equals(Money.sum(parts, c))).toBe(true);
      }),
    );
  });

  it('a − b + b = a and a + (−a) = 0', () => {
    fc.assert(
      fc.property(currency, decimalString, decimalString, (c, x, y) => {
        const a = Money.of(x, c);
        const b = Money.of(y, c);
        expect(a.minus(b).plus(b).equals(a)).toBe(true);
        expect(a.plus(a.negated()).isZero()).toBe(true);
      }),
    );
  });

  it('roundUp ≥ exact ≥ roundUp − one minor unit; half-even is within half a unit', () => {
    fc.assert(
      fc.property(money, ([a, c]) => {
        const m = Money.of(a, c);
        const unit = new Decimal(10).pow(-minorUnitDigits(c));
        const up = m.roundUp();
        expect(up.gte(m)).toBe(true);
        expect(up.amount.minus(m.amount).lt(unit)).toBe(true);
        const he = m.roundHalfEven();
        expect(he.amount.minus(m.amount).abs().lte(unit.div(2))).toBe(true);
        expect(he.isAtMinorPrecision() && up.isAtMinorPrecision()).toBe(true);
        expect(he.roundHalfEven().equals(he)).toBe(true);
      }),
    );
  });

  it('toString is exact and parses back; at minor precision it has exactly the minor digits', () => {
    fc.assert(
      fc.property(money, ([a, c]) => {
        const m = Money.of(a, c);
        const s = m.toString();
        expect(Money.of(s, c).equals(m)).toBe(true);
        const rounded = m.roundHalfEven().toString();
        const digits = minorUnitDigits(c);
        const frac = rounded.split('.')[1];
        expect(frac?.length ?? 0).toBe(digits);
      }),
    );
  });

  it('fee + net = gross, and the fee is at minor precision', () => {
    const rate = fc
      .integer({ min: 0, max: 10000 })
      .map((bp) => new Decimal(bp).div(10000).toFixed());
    fc.assert(
      fc.property(currency, fc.bigInt({ min: 0n, max: 10n ** 14n }), rate, (c, minor, r) => {
        const digits = minorUnitDigits(c);
        const gross = Money.of(new Decimal(minor.toString()).div(new Decimal(10).pow(digits)), c);
        const f = fee(gross, r);
        const net = gross.minus(f);
        expect(f.plus(net).equals(gross)).toBe(true);
        expect(f.isAtMinorPrecision() && net.isAtMinorPrecision()).toBe(true);
        expect(f.isNegative() || net.isNegative()).toBe(false);
        expect(
          f.amount.minus(gross.amount.times(r)).abs().lte(new Decimal(10).pow(-digits).div(2)),
        ).toBe(true);
      }),
    );
  });
});

describe('fee', () => {
  it('is round_half_even(gross × rate)', () => {
    expect(fee(Money.of('100.10', 'CNY'), '0.05').toString()).toBe('5.00'); // 5.005 → 5.00
    expect(fee(Money.of('100.30', 'CNY'), '0.05').toString()).toBe('5.02'); // 5.015 → 5.02
    expect(fee(Money.of('0.01', 'CNY'), '0.05').toString()).toBe('0.00');
    expect(fee(Money.of('1350', 'JPY'), '0.05').toString()).toBe('68'); // 67.5 → 68
    expect(fee(Money.of('1250', 'JPY'), '0.05').toString()).toBe('62'); // 62.5 → 62
    expect(code(() => fee(Money.of('1', 'CNY'), 0.05))).toBe('invalid_decimal');
  });
});

describe('parseDecimal fuzz', () => {
  it('either throws invalid_decimal or returns the exact value of a plain decimal', () => {
    const chars = fc.constantFrom(...'0123456789.-+eE xN'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: chars, maxLength: 12 })), (s) => {
        let d: Decimal;
        try {
          d = parseDecimal(s);
        } catch (e) {
          expect(e).toBeInstanceOf(MoneyError);
          expect((e as MoneyError).code).toBe('invalid_decimal');
          return;
        }
        expect(s).toMatch(/^-?\d+(\.\d+)?$/);
        expect(d.eq(new Decimal(s))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
