import { describe, expect, it } from '@jest/globals';
import { DEFAULT_SLA, creditPercent, offlineBreachAt, validateSla } from './sla.js';

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

describe('offlineBreachAt', () => {
  const t = (min: number) => new Date(Date.UTC(2026, 3, 1, 10, 0) + min * 60_000);
  const base = {
    leaseStart: t(0),
    degradedWindowMs: 15 * 60_000,
    limitMs: 60 * 60_000,
  };
  it('counts offline from 15 minutes after the last beat, and breaches when the limit is reached', () => {
    const last = t(10); // offline from 10:25, breach at 11:25
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: last, reported: 'online', now: t(84) }),
    ).toBeNull();
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: last, reported: 'online', now: t(85) }),
    ).toEqual(t(85));
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: last, reported: 'degraded', now: t(200) }),
    ).toEqual(t(85));
  });
  it('counts from the beat that reported offline', () => {
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: t(10), reported: 'offline', now: t(70) }),
    ).toEqual(t(70));
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: t(10), reported: 'offline', now: t(69) }),
    ).toBeNull();
  });
  it('counts from the lease start at the earliest (offline before it, or never beat)', () => {
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: t(-600), reported: 'online', now: t(59) }),
    ).toBeNull();
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: t(-600), reported: 'online', now: t(60) }),
    ).toEqual(t(60));
    expect(offlineBreachAt({ ...base, lastHeartbeatAt: null, reported: null, now: t(60) })).toEqual(
      t(60),
    );
  });
  it('never breaches a resource that beats within the window', () => {
    expect(
      offlineBreachAt({ ...base, lastHeartbeatAt: t(999), reported: 'online', now: t(1000) }),
    ).toBeNull();
  });
});
