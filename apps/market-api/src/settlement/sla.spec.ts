import { describe, expect, it } from '@jest/globals';
import { DEFAULT_SLA, creditPercent, validateSla } from './sla.js';

describe('validateSla', () => {
  it('accepts a schedule whose credit rises as the threshold falls, in any order', () => {
    expect(validateSla(DEFAULT_SLA)).toBe(DEFAULT_SLA);
    const shuffled = {
      target: '99.5',
      schedule: [
        { below: '95', credit: '100' },
        { below: '99.5', credit: '10' },
        { below: '99', credit: '25' },
      ],
    };
    expect(validateSla(shuffled)).toBe(shuffled);
    // 97 % of 100 minutes: below 99.5 and below 99, not below 95 → the larger, 25 %.
    expect(creditPercent(shuffled, 97, 100).toFixed()).toBe('25');
  });

  it('refuses a credit that falls (or stays) as the threshold falls, and a repeated threshold', () => {
    const refused = [
      [
        { below: '99', credit: '25' },
        { below: '95', credit: '10' },
      ],
      [
        { below: '99', credit: '25' },
        { below: '95', credit: '25' },
      ],
      [
        { below: '95', credit: '10' },
        { below: '95', credit: '20' },
      ],
    ];
    for (const schedule of refused) {
      expect(() => validateSla({ target: '99', schedule })).toThrow(RangeError);
    }
  });
});
