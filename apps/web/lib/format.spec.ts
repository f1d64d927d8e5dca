import { describe, expect, it } from '@jest/globals';
import {
  formatDate,
  formatDateTime,
  formatDecimal,
  formatMoney,
  formatPercent,
  isZero,
} from './format';

describe('formatDecimal', () => {
  it('groups thousands on the string, never through a float', () => {
    expect(formatDecimal('1234567.5')).toBe('1,234,567.5');
    expect(formatDecimal('0.1')).toBe('0.1');
    expect(formatDecimal('-1000')).toBe('-1,000');
    // 2^53 + 1 would lose its last digit as a double
    expect(formatDecimal('9007199254740993.01')).toBe('9,007,199,254,740,993.01');
  });

  it('pads but never truncates the fraction', () => {
    expect(formatDecimal('12.5', 2)).toBe('12.50');
    expect(formatDecimal('0.4125', 2)).toBe('0.4125');
    expect(formatDecimal('7', 2)).toBe('7.00');
  });

  it('passes non-decimals through', () => {
    expect(formatDecimal('n/a')).toBe('n/a');
    expect(formatDecimal('1e5')).toBe('1e5');
  });
});

describe('formatMoney', () => {
  it('uses the currency symbol and minor digits', () => {
    expect(formatMoney('1234.5', 'CNY')).toBe('¥1,234.50');
    expect(formatMoney('40.60', 'CNY')).toBe('¥40.60');
    expect(formatMoney('0.02', 'USD')).toBe('US$0.02');
    expect(formatMoney('1500', 'JPY')).toBe('JP¥1,500');
    expect(formatMoney('-12.5', 'EUR')).toBe('-€12.50');
  });

  it('falls back to the ISO code', () => {
    expect(formatMoney('3.1', 'CHF')).toBe('CHF 3.10');
    expect(formatMoney('oops', 'CNY')).toBe('oops CNY');
  });
});

describe('isZero', () => {
  it('recognises zero in any scale', () => {
    expect(isZero('0')).toBe(true);
    expect(isZero('0.00')).toBe(true);
    expect(isZero('-0.0')).toBe(true);
    expect(isZero('0.01')).toBe(false);
  });
});

describe('dates', () => {
  it('formats in UTC per language', () => {
    expect(formatDateTime('2026-11-28T10:05:00Z', 'en')).toBe('28 Nov 2026, 10:05 UTC');
    expect(formatDateTime('2026-11-28T10:05:00Z', 'zh')).toBe('2026年11月28日 10:05 UTC');
    expect(formatDate('2026-11-28T23:59:00Z', 'en')).toBe('28 Nov 2026');
    expect(formatDateTime(null, 'en')).toBe('—');
    expect(formatDateTime('not a date', 'en')).toBe('not a date');
  });
});

describe('formatPercent', () => {
  it('moves the decimal point on the string', () => {
    expect(formatPercent('0.05')).toBe('5');
    expect(formatPercent('0.125')).toBe('12.5');
    expect(formatPercent('0')).toBe('0');
    expect(formatPercent('0.080000000')).toBe('8');
    expect(formatPercent('0.000001')).toBe('0.0001');
  });
});
