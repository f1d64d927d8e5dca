import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { FixedClock } from '../common/clock.js';
import { buyerPseudonym } from './pseudonym.js';
import { SettlementConfig } from './settlement.config.js';
import { SettlementScheduler } from './settlement.scheduler.js';
import type { SettlementRunResult, SettlementService } from './settlement.service.js';
import type { SlaWatch } from './sla-watch.service.js';

const emptyRun = (now: Date): SettlementRunResult => ({
  runId: 'run-1',
  horizon: now.toISOString(),
  leases: 0,
  batched: 0,
  debitNotes: 0,
  suspended: 0,
  resumed: 0,
  ended: 0,
  invoices: 0,
  failed: [],
});

function fakeSettlement(delayMs = 0) {
  const calls: Date[] = [];
  const service = {
    runDue: (now: Date) => {
      calls.push(now);
      return new Promise<SettlementRunResult>((resolve) =>
        setTimeout(() => resolve(emptyRun(now)), delayMs),
      );
    },
  } as unknown as SettlementService;
  return { service, calls };
}

/** The SLA watch finds nothing (it has its own integration test). */
const noBreaches = { run: () => Promise.resolve({ breached: [] }) } as unknown as SlaWatch;

afterEach(() => {
  jest.useRealTimers();
});

describe('SettlementScheduler', () => {
  it('runs settlement with the clock every interval, one run at a time', async () => {
    jest.useFakeTimers();
    const clock = new FixedClock(new Date('2026-11-28T10:00:00Z'));
    const { service, calls } = fakeSettlement(90_000);
    const scheduler = new SettlementScheduler(service, clock, new SettlementConfig(), noBreaches);
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(calls.map((d) => d.toISOString())).toEqual(['2026-11-28T10:00:00.000Z']);
    // The first run takes 90 s: the tick at 120 s is skipped, not stacked.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    clock.advance(3_600_000);
    await jest.advanceTimersByTimeAsync(60_000 + 90_000);
    expect(calls.map((d) => d.toISOString())).toEqual([
      '2026-11-28T10:00:00.000Z',
      '2026-11-28T11:00:00.000Z',
    ]);
    const stopping = scheduler.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(90_000);
    await stopping;
    await jest.advanceTimersByTimeAsync(600_000);
    expect(calls).toHaveLength(2);
  });

  it('does nothing with SETTLEMENT_SCHEDULER=off', async () => {
    jest.useFakeTimers();
    const { service, calls } = fakeSettlement();
    const config = SettlementConfig.fromEnv({ SETTLEMENT_SCHEDULER: 'off' });
    const scheduler = new SettlementScheduler(
      service,
      new FixedClock(new Date()),
      config,
      noBreaches,
    );
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(calls).toHaveLength(0);
    await scheduler.onModuleDestroy();
  });
});

describe('SettlementConfig', () => {
  it('has the documented defaults', () => {
    const c = SettlementConfig.fromEnv({});
    expect(c).toMatchObject({
      lagMs: 0,
      graceMs: 15 * 60_000,
      schedulerEnabled: true,
      intervalMs: 60_000,
    });
    expect(c.pseudonymSecret.length).toBeGreaterThan(0);
    expect(() => SettlementConfig.fromEnv({ NODE_ENV: 'production' })).toThrow(/PSEUDONYM_SECRET/);
    expect(
      SettlementConfig.fromEnv({ NODE_ENV: 'production', PSEUDONYM_SECRET: 's3cret' })
        .pseudonymSecret,
    ).toBe('s3cret');
  });

  it('reads the environment and refuses bad values, naming the variable', () => {
    const c = SettlementConfig.fromEnv({
      SETTLEMENT_LAG_MINUTES: '5',
      SETTLEMENT_GRACE_MINUTES: '30',
      SETTLEMENT_INTERVAL_SECONDS: '10',
    });
    expect(c).toMatchObject({ lagMs: 300_000, graceMs: 1_800_000, intervalMs: 10_000 });
    expect(() => SettlementConfig.fromEnv({ SETTLEMENT_LAG_MINUTES: '-1' })).toThrow(
      /SETTLEMENT_LAG_MINUTES/,
    );
    expect(() => SettlementConfig.fromEnv({ SETTLEMENT_SCHEDULER: 'maybe' })).toThrow(
      /SETTLEMENT_SCHEDULER/,
    );
  });
});

describe('buyerPseudonym', () => {
  it('is stable per (buyer, seller), differs across sellers and secrets, and hides the id', () => {
    const buyer = '0b5f7c1e-8a54-4c1e-9d2a-3f6b1c2d4e5f';
    const a = buyerPseudonym('s1', buyer, 'seller-a');
    expect(a).toMatch(/^buyer-[0-9a-f]{16}$/);
    expect(buyerPseudonym('s1', buyer, 'seller-a')).toBe(a);
    expect(buyerPseudonym('s1', buyer, 'seller-b')).not.toBe(a);
    expect(buyerPseudonym('s2', buyer, 'seller-a')).not.toBe(a);
    expect(a).not.toContain(buyer.slice(0, 8));
  });
});
