import { describe, expect, it } from '@jest/globals';
import { parseTiers, priceFieldFor, priceRows, TIERS_PATTERN } from './offer-prices';

const form = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('offer price fields', () => {
  it('parses graduated tiers', () => {
    expect(parseTiers('100:12.00, 500 : 10.00, 9.00')).toEqual([
      { upTo: '100', price: '12.00' },
      { upTo: '500', price: '10.00' },
      { upTo: null, price: '9.00' },
    ]);
    expect(parseTiers('7.5')).toEqual([{ upTo: null, price: '7.5' }]);
    expect(parseTiers('100:12.00')).toBeNull();
    expect(parseTiers('100:1.2.3, 9')).toBeNull();
    expect(parseTiers('')).toBeNull();
    const re = new RegExp(`^(?:${TIERS_PATTERN})$`, 'v');
    expect(re.test('100:12.00, 500:10.00, 9.00')).toBe(true);
    expect(re.test('100:12.00,')).toBe(false);
  });

  it('builds the rows of each model', () => {
    expect(priceRows('fixed', form({ 'price.slot_h': '5.00', 'price.scu.ai': '' })).rows).toEqual([
      { unit: 'slot_h', price: '5.00' },
    ]);
    expect(
      priceRows('interruptible', form({ 'price.slot_h': '2.00', 'price.scu.ai': '1' })).rows,
    ).toEqual([{ unit: 'slot_h', price: '2.00' }]);
    expect(
      priceRows(
        'reserved',
        form({
          'price.slot_h': '10.00',
          'reserved.slot_h.quantity': '100',
          'reserved.slot_h.price': '8.00',
        }),
      ).rows,
    ).toEqual([{ unit: 'slot_h', price: '10.00', reserved: { quantity: '100', price: '8.00' } }]);
    const tiered = priceRows('tiered', form({ 'tiers.slot_h': '10:5, 4', 'tiers.scu.ai': 'x' }));
    expect(tiered.rows).toEqual([
      {
        unit: 'slot_h',
        tiers: [
          { upTo: '10', price: '5' },
          { upTo: null, price: '4' },
        ],
      },
    ]);
    expect(tiered.invalid).toEqual(['tiers.scu.ai']);
  });

  it('maps API issue paths to the form fields', () => {
    const rows = [{ unit: 'slot_h' as const }, { unit: 'scu.ai' as const }];
    expect(priceFieldFor('tiered', 'prices.1.tiers.0.upTo', rows)).toBe('tiers.scu.ai');
    expect(priceFieldFor('reserved', 'prices.0.reserved.price', rows)).toBe(
      'reserved.slot_h.price',
    );
    expect(priceFieldFor('reserved', 'prices.1.reserved', rows)).toBe('reserved.scu.ai.quantity');
    expect(priceFieldFor('fixed', 'prices.1.price', rows)).toBe('price.scu.ai');
    expect(priceFieldFor('interruptible', 'prices', rows)).toBe('price.slot_h');
    expect(priceFieldFor('fixed', 'title', rows)).toBe('title');
  });
});
