import { describe, expect, it } from '@jest/globals';
import { CredibilityConfig } from './credibility.config.js';

describe('credibility configuration', () => {
  it('defaults to a nightly full run and a 5-minute check for new evidence', () => {
    const c = CredibilityConfig.fromEnv({});
    expect(c.schedulerEnabled).toBe(true);
    expect(c.intervalMs).toBe(86_400_000);
    expect(c.staleMs).toBe(300_000);
  });

  it('reads the environment and names a bad variable', () => {
    const c = CredibilityConfig.fromEnv({
      CREDIBILITY_SCHEDULER: 'off',
      CREDIBILITY_INTERVAL_SECONDS: '3600',
      CREDIBILITY_STALE_SECONDS: '',
    });
    expect(c.schedulerEnabled).toBe(false);
    expect(c.intervalMs).toBe(3_600_000);
    expect(c.staleMs).toBe(300_000);
    expect(() => CredibilityConfig.fromEnv({ CREDIBILITY_INTERVAL_SECONDS: '1' })).toThrow(
      'CREDIBILITY_INTERVAL_SECONDS',
    );
  });
});
