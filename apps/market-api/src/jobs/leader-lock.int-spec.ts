import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { OrderView } from '@suanli/contracts';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { scrapeMetrics } from '../../../../test/support/metrics.js';
import { withLeaderLock } from './leader-lock.js';
import { PayoutScheduler } from '../payments/payout.scheduler.js';
import { SettlementScheduler } from '../settlement/settlement.scheduler.js';
import { SettlementLogScheduler } from '../settlement-log/settlement-log.scheduler.js';
import { SettlementService } from '../settlement/settlement.service.js';
import { LedgerBalanceMonitor } from '../ledger/ledger-balance.monitor.js';

const HOUR = 3600_000;
let database: TestDatabase;
let a: TestMarketApi;
let b: TestMarketApi;
const dsOf = (api: TestMarketApi) => api.app.get<DataSource>(getDataSourceToken());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Two market-api instances on one database, as in production behind a load balancer.
beforeAll(async () => {
  database = await createTestDatabase();
  a = await startMarketApi({ database });
  b = await startMarketApi({ database, clock: a.clock });
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await database?.drop();
});

describe('scheduled jobs with two instances', () => {
  it('withLeaderLock lets one instance at a time run a job; the other skips', async () => {
    let inside = 0;
    let maxInside = 0;
    const job = async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(150);
      inside--;
      return 'done';
    };
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([
        withLeaderLock(dsOf(a), 'test-job', job),
        withLeaderLock(dsOf(b), 'test-job', job),
      ]);
      expect(results.filter((r) => r.ran)).toHaveLength(1);
      expect(results.filter((r) => !r.ran)).toHaveLength(1);
    }
    expect(maxInside).toBe(1);
    // Released afterwards: a single instance gets it again.
    expect(await withLeaderLock(dsOf(b), 'test-job', job)).toEqual({ ran: true, value: 'done' });
  });

  it('a leader that dies (its session ends) hands the job over', async () => {
    let release!: () => void;
    const held = withLeaderLock(
      dsOf(a),
      'handover',
      () => new Promise<void>((r) => (release = r)),
    ).catch(() => 'connection lost');
    try {
      await sleep(100);
      expect((await withLeaderLock(dsOf(b), 'handover', async () => 1)).ran).toBe(false);
      // Kill the leader's session, as a crashed instance's would end. The timeout makes
      // pg_terminate_backend wait until the session is gone (and its lock with it): without it
      // the next attempt could still find the lock held.
      await dsOf(b).query(
        `SELECT pg_terminate_backend(pid, 10000) FROM pg_locks
          WHERE locktype = 'advisory' AND objid = hashtext('suanli:job:handover')::oid
            AND pid <> pg_backend_pid()`,
      );
      expect(await withLeaderLock(dsOf(b), 'handover', async () => 2)).toEqual({
        ran: true,
        value: 2,
      });
    } finally {
      // Whatever happened, the dead leader's job ends, so that its connection goes back and the
      // instances can close.
      release();
      await held;
    }
  });

  it('settlement ticks on both instances at once: one runs, each period is charged once', async () => {
    const { offer } = await sellerWithOffer(a, { capacity: 4 });
    const buyer = await signUpActor(a, ['buyer']);
    await fundWallet(a, buyer.orgId, 'CNY', '1000.00');
    for (let i = 0; i < 3; i++) {
      const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
        offerId: offer.id,
        slots: 1,
        hours: 2,
      });
      expect(order.status).toBe(201);
    }
    // Slow each instance's run down a little, and watch that they never overlap.
    let inside = 0;
    let maxInside = 0;
    let runs = 0;
    for (const api of [a, b]) {
      const service = api.app.get(SettlementService);
      const runDue = service.runDue.bind(service);
      service.runDue = async (now: Date) => {
        inside++;
        runs++;
        maxInside = Math.max(maxInside, inside);
        try {
          await sleep(100);
          return await runDue(now);
        } finally {
          inside--;
        }
      };
    }
    a.clock.advance(3 * HOUR);
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round++) {
      outcomes.push(
        ...(await Promise.all([
          a.app.get(SettlementScheduler).runOnce(),
          b.app.get(SettlementScheduler).runOnce(),
        ])),
      );
    }
    expect(maxInside).toBe(1);
    expect(outcomes.filter((o) => o === 'ran')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'skipped')).toHaveLength(4);
    expect(runs).toBe(4);
    const [{ notes, periods }] = await dsOf(a).query<{ notes: string; periods: string }[]>(
      `SELECT COUNT(*)::text AS notes,
              COUNT(DISTINCT (lease_id, kind, period_start))::text AS periods FROM debit_notes`,
    );
    expect(Number(notes)).toBe(6); // 3 leases × 2 hours
    expect(periods).toBe(notes);
    const payouts = await Promise.all([
      a.app.get(PayoutScheduler).runOnce(),
      b.app.get(PayoutScheduler).runOnce(),
    ]);
    expect(payouts.filter((o) => o !== 'failed')).toHaveLength(2);
    const tb = await apiClient(a.url, await a.operatorToken()).get<{ balanced: boolean }>(
      '/v1/admin/ledger/trial-balance',
    );
    expect(tb.body.balanced).toBe(true);
  }, 60_000);

  it('/metrics shows job outcomes, the ledger check and HTTP latency by route', async () => {
    expect(await a.app.get(LedgerBalanceMonitor).runOnce()).toBe('ran');
    await fetch(`${a.url}/v1/offers`);
    const res = await scrapeMetrics(a.url);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /suanli_http_request_duration_seconds_count\{method="GET",route="\/v1\/offers",status="200"\} \d+/,
    );
    expect(text).toMatch(/suanli_job_runs_total\{job="settlement",outcome="(ran|skipped)"\} \d+/);
    expect(text).toContain('suanli_ledger_balanced 1');
    expect(text).toMatch(/suanli_ledger_balance_checks_total\{result="balanced"\} 1/);
    expect(text).toMatch(/suanli_settlement_amount\{currency="CNY",part="gross"\} 60/);
    // Both instances together ran settlement 4 times.
    const runsOf = (t: string) =>
      Number(/suanli_job_runs_total\{job="settlement",outcome="ran"\} (\d+)/.exec(t)?.[1] ?? 0);
    const other = await (await scrapeMetrics(b.url)).text();
    expect(runsOf(text) + runsOf(other)).toBe(4);
    // Settlement results and payout runs, summed over both instances.
    const total = (re: RegExp) =>
      Number(re.exec(text)?.[1] ?? 0) + Number(re.exec(other)?.[1] ?? 0);
    expect(total(/suanli_settlement_items_total\{kind="debit_note"\} (\d+)/)).toBe(6);
    expect(total(/suanli_settlement_items_total\{kind="failed"\} (\d+)/)).toBe(0);
    expect(`${text}\n${other}`).toMatch(/suanli_payouts_total\{outcome="booked"\} \d+/);
    expect(text).toMatch(/suanli_job_runs_total\{job="payouts",outcome="(ran|skipped)"\} 1/);
  });

  it('checkpoint ticks on both instances at once sign one checkpoint, counted as job runs', async () => {
    const count = async () =>
      Number(
        (
          await dsOf(a).query<{ n: string }[]>(
            'SELECT COUNT(*)::text AS n FROM settlement_log_checkpoints',
          )
        )[0].n,
      );
    const before = await count();
    const ticks = await Promise.all([
      a.app.get(SettlementLogScheduler).runOnce(),
      b.app.get(SettlementLogScheduler).runOnce(),
    ]);
    expect(ticks).toEqual(['ran', 'ran']);
    // The tree grew (debit notes above): one new checkpoint, not two.
    expect(await count()).toBe(before + 1);
    for (const api of [a, b]) {
      const text = await (await scrapeMetrics(api.url)).text();
      expect(text).toMatch(/suanli_job_runs_total\{job="checkpoint",outcome="ran"\} 1/);
    }
  });
});
