import { describe, expect, it } from '@jest/globals';
import {
  escrowHold,
  ratePeriod,
  rateReservedBlock,
  validatePriceRow,
  type PriceRow,
} from './rating.js';
import { creditPercent, DEFAULT_SLA, slaCredit } from './sla.js';

// Golden cases for the tiered, reserved and interruptible models and for SLA credits. Every
// expected figure is worked out by hand in the comment beside it, not by the code under test.

const HOUR = 3_600_000;
const lines = (r: ReturnType<typeof ratePeriod>) =>
  r.lines.map((l) => [l.unit, l.quantity, l.unitPrice, l.amount]);

describe('tiered', () => {
  const scu: PriceRow = {
    unit: 'scu.ai',
    price: '9.00',
    model: 'tiered',
    tiers: [
      { upTo: '100', price: '9.00' },
      { upTo: null, price: '8.00' },
    ],
  };

  it('splits a period that crosses a tier boundary into one line per tier', () => {
    // prior 95, period 10.5: 5 × 9.00 = 45.00 (to 100) and 5.5 × 8.00 = 44.00; gross 89.00;
    // fee 89.00 × 0.05 = 4.45; net 84.55.
    const r = ratePeriod({
      currency: 'CNY',
      slots: 1,
      prices: [scu],
      activeMs: HOUR,
      usage: { 'scu.ai': '10.5' },
      takeRate: '0.05',
      prior: { 'scu.ai': '95' },
    });
    expect(lines(r)).toEqual([
      ['scu.ai', '5', '9.00', '45.00'],
      ['scu.ai', '5.5', '8.00', '44.00'],
    ]);
    expect([r.gross, r.fee, r.net]).toEqual(['89.00', '4.45', '84.55']);
  });

  it('stays in the upper tier once the cumulative quantity is past the bound', () => {
    // prior 150, period 3: 3 × 8.00 = 24.00; fee 1.20.
    const r = ratePeriod({
      currency: 'CNY',
      slots: 1,
      prices: [scu],
      activeMs: HOUR,
      usage: { 'scu.ai': '3' },
      takeRate: '0.05',
      prior: { 'scu.ai': '150' },
    });
    expect(lines(r)).toEqual([['scu.ai', '3', '8.00', '24.00']]);
    expect([r.gross, r.fee]).toEqual(['24.00', '1.20']);
  });

  it('rounds each tier line half-even at x.xx5', () => {
    // prior 9, period 2 with tiers 1.005 (to 10) and 1.015: 1 × 1.005 = 1.005 → 1.00 (0 is
    // even); 1 × 1.015 = 1.015 → 1.02 (1 is odd); gross 2.02; fee 0.101 → 0.10; net 1.92.
    const r = ratePeriod({
      currency: 'USD',
      slots: 1,
      prices: [
        {
          unit: 'scu.gen',
          price: '1.005',
          model: 'tiered',
          tiers: [
            { upTo: '10', price: '1.005' },
            { upTo: null, price: '1.015' },
          ],
        },
      ],
      activeMs: HOUR,
      usage: { 'scu.gen': '2' },
      takeRate: '0.05',
      prior: { 'scu.gen': '9' },
    });
    expect(lines(r)).toEqual([
      ['scu.gen', '1', '1.005', '1.00'],
      ['scu.gen', '1', '1.015', '1.02'],
    ]);
    expect([r.gross, r.fee, r.net]).toEqual(['2.02', '0.10', '1.92']);
  });

  it('tiers slot-hours too, and holds escrow at the highest tier price', () => {
    // 2 slots × 1 h = 2 slot-h from 0: 1 × 10.00 + 1 × 5.00 = 15.00.
    const row: PriceRow = {
      unit: 'slot_h',
      price: '5.00',
      model: 'tiered',
      tiers: [
        { upTo: '1', price: '10.00' },
        { upTo: null, price: '5.00' },
      ],
    };
    const r = ratePeriod({
      currency: 'CNY',
      slots: 2,
      prices: [row],
      activeMs: HOUR,
      usage: {},
      takeRate: '0.05',
    });
    expect(lines(r)).toEqual([
      ['slot_h', '1', '10.00', '10.00'],
      ['slot_h', '1', '5.00', '5.00'],
    ]);
    // Hold: 2 slots × 1 h × max(10.00, 5.00) = 20.00.
    expect(
      escrowHold({
        currency: 'CNY',
        slots: 2,
        prices: [row],
        spec: { cpu: 8 },
        computeClass: 'GEN',
        catalog: '2026.1',
      }).toString(),
    ).toBe('20.00');
  });

  it('rejects malformed tiers', () => {
    expect(() => validatePriceRow({ unit: 'scu.ai', price: '1', model: 'tiered' })).toThrow();
    expect(() =>
      validatePriceRow({
        unit: 'scu.ai',
        price: '1',
        model: 'tiered',
        tiers: [
          { upTo: '10', price: '1' },
          { upTo: '5', price: '1' },
          { upTo: null, price: '1' },
        ],
      }),
    ).toThrow(/ascend/);
  });
});

describe('reserved', () => {
  const row: PriceRow = {
    unit: 'slot_h',
    price: '12.50',
    model: 'reserved',
    reserved: { quantity: '10', price: '10.00' },
  };

  it('prepays the block as its own debit note', () => {
    // 10 slot-h × 10.00 = 100.00; fee 5.00; net 95.00.
    const r = rateReservedBlock({ currency: 'CNY', prices: [row], takeRate: '0.05' });
    expect(r && [r.gross, r.fee, r.net]).toEqual(['100.00', '5.00', '95.00']);
    expect(r?.lines.map((l) => [l.quantity, l.unitPrice, l.amount])).toEqual([
      ['10', '10.00', '100.00'],
    ]);
    // 3 × 3.335 = 10.005 → 10.00 (half-even); fee 0.50025 → 0.50.
    const edge = rateReservedBlock({
      currency: 'CNY',
      prices: [{ ...row, reserved: { quantity: '3', price: '3.335' } }],
      takeRate: '0.05',
    });
    expect(edge && [edge.gross, edge.fee]).toEqual(['10.00', '0.50']);
    expect(
      rateReservedBlock({
        currency: 'CNY',
        prices: [{ unit: 'slot_h', price: '1' }],
        takeRate: '0.05',
      }),
    ).toBeNull();
  });

  it('consumes the block first, then bills on demand (fee half-even at x.xx5)', () => {
    // prior 9 of 10 (2 slots × 4.5 h); 2 slots × 1 h = 2: 1 from the block (0.00), 1 × 12.50
    // beyond.
    // gross 12.50; fee 0.625 → 0.62 (2 is even); net 11.88.
    const r = ratePeriod({
      currency: 'CNY',
      slots: 2,
      prices: [row],
      activeMs: HOUR,
      usage: {},
      takeRate: '0.05',
      priorActiveMs: 4.5 * HOUR,
    });
    expect(lines(r)).toEqual([
      ['slot_h', '1', '0', '0.00'],
      ['slot_h', '1', '12.50', '12.50'],
    ]);
    expect([r.gross, r.fee, r.net]).toEqual(['12.50', '0.62', '11.88']);
  });

  it('charges nothing while the block lasts', () => {
    const r = ratePeriod({
      currency: 'CNY',
      slots: 1,
      prices: [row],
      activeMs: HOUR / 2,
      usage: {},
      takeRate: '0.05',
      priorActiveMs: 2 * HOUR,
    });
    expect(lines(r)).toEqual([['slot_h', '0.5', '0', '0.00']]);
    expect(r.gross).toBe('0.00');
  });
});

describe('interruptible', () => {
  it('bills the slot-hours actually run at the bid', () => {
    // 3 slots, active 60 min, paused 20 min → 3 × 40/60 = 2 slot-h × 7.25 = 14.50;
    // fee 0.725 → 0.72 (2 is even); net 13.78.
    const r = ratePeriod({
      currency: 'CNY',
      slots: 3,
      prices: [{ unit: 'slot_h', price: '7.25', model: 'interruptible' }],
      activeMs: HOUR,
      pausedMs: 20 * 60_000,
      usage: {},
      takeRate: '0.05',
    });
    expect(lines(r)).toEqual([['slot_h', '2', '7.25', '14.50']]);
    expect([r.gross, r.fee, r.net]).toEqual(['14.50', '0.72', '13.78']);
  });

  it('is per slot-hour only', () => {
    expect(() =>
      validatePriceRow({ unit: 'scu.ai', price: '1', model: 'interruptible' }),
    ).toThrow();
  });
});

describe('SLA credit schedule', () => {
  it('applies the largest step the availability is strictly below', () => {
    const p = (a: number, t: number) => creditPercent(DEFAULT_SLA, a, t).toFixed();
    expect(p(1000, 1000)).toBe('0');
    expect(p(995, 1000)).toBe('0'); // exactly 99.5 % is not below the target
    expect(p(994, 1000)).toBe('10');
    expect(p(990, 1000)).toBe('10'); // exactly 99 %
    expect(p(989, 1000)).toBe('25');
    expect(p(950, 1000)).toBe('25');
    expect(p(949, 1000)).toBe('100');
    expect(p(0, 0)).toBe('0');
  });

  it('splits the credit half-even between seller and platform', () => {
    // p = 25 %: seller 0.30 × 0.25 = 0.075 → 0.08 (7 odd); platform 0.10 × 0.25 = 0.025 → 0.02
    // (2 even); the buyer gets 0.10.
    const c = slaCredit({
      currency: 'CNY',
      terms: DEFAULT_SLA,
      activeMinutes: 100,
      availableMinutes: 97,
      net: '0.30',
      fee: '0.10',
    });
    expect([c.sellerShare, c.platformShare, c.credit, c.availability]).toEqual([
      '0.08',
      '0.02',
      '0.10',
      '97',
    ]);
  });
});
