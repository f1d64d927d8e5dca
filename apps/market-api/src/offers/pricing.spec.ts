import { describe, expect, it } from '@jest/globals';
import { normalizedPrice } from './pricing.js';

const h200 = { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } };
const ctx = { class: 'AI' as const, spec: h200, catalog: '2026.1' };

describe('normalizedPrice', () => {
  it('is the unit price itself when only the class unit is priced', () => {
    expect(normalizedPrice([{ unit: 'scu.ai', price: '12.00' }], ctx)).toEqual({
      unit: 'scu.ai',
      price: '12',
    });
  });

  it('spreads a slot-hour price over the units a slot delivers per hour', () => {
    // 8 × 989 TFLOPS = 7.912 PFLOP-hours per slot-hour; 79.12 / 7.912 = 10.
    expect(normalizedPrice([{ unit: 'slot_h', price: '79.12' }], ctx)).toEqual({
      unit: 'scu.ai',
      price: '10',
    });
  });

  it('adds every price at full load: 12 + 5 / 7.912', () => {
    const r = normalizedPrice(
      [
        { unit: 'slot_h', price: '5.00' },
        { unit: 'scu.ai', price: '12.00' },
      ],
      ctx,
    );
    expect(r).toEqual({ unit: 'scu.ai', price: '12.631951' });
  });

  it('compares general compute per reference vCPU-hour', () => {
    const vm = { class: 'GEN' as const, spec: { cpu: 8, memGiB: 32 }, catalog: '2026.1' };
    expect(normalizedPrice([{ unit: 'slot_h', price: '0.40' }], vm)).toEqual({
      unit: 'scu.gen',
      price: '0.05',
    });
  });

  it('is null when a price has no upper bound per slot-hour', () => {
    expect(
      normalizedPrice(
        [
          { unit: 'slot_h', price: '1.00' },
          { unit: 'api.call', price: '0.01' },
        ],
        ctx,
      ),
    ).toBeNull();
  });
});
