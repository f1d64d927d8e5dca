// Settlement benchmark: settle 100,000 lease-hours (10,000 leases × 10 completed hours, fixed
// price per slot-hour and per scu.ai, metered usage in every hour) with SettlementService.runDue
// (batched: set-based SQL per chunk of SETTLEMENT_BATCH_SIZE leases), next to a plain SQL
// aggregation that rates the same usage_hours rows in one query, in the same run and database.
// BENCH_PER_LEASE_SAMPLE leases are also settled the per-lease way (batch off) in a second
// database in the same run, for the ratio batched / per lease.
//
//   DATABASE_URL=... node --import @swc-node/register/esm-register bench/settlement/settle.bench.ts
//
// Options (env): BENCH_LEASES (10000), BENCH_HOURS (10), BENCH_CONCURRENCY (4 leases at once),
// BENCH_BATCH_SIZE (500), BENCH_PER_LEASE_SAMPLE (200 leases; 0 = skip).
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { SettlementConfig } from '../../apps/market-api/src/settlement/settlement.config.js';
import {
  openDataSource,
  settlementKit,
} from '../../apps/market-api/src/settlement/testing/settlement-fixtures.js';
import { createTestDatabase } from '../../test/support/db.js';

const LEASES = Number(process.env.BENCH_LEASES ?? 10_000);
const HOURS = Number(process.env.BENCH_HOURS ?? 10);
const T0 = '2026-06-01T00:00:00Z';

const BATCH = Number(process.env.BENCH_BATCH_SIZE ?? 500);
const SAMPLE = Number(process.env.BENCH_PER_LEASE_SAMPLE ?? 200);

interface Run {
  rows: number;
  baselineMs: number;
  baseline: { n: string; total: string };
  settleMs: number;
  notes: { notes: number; gross: string };
  batched: number;
  concurrency: number;
}

async function main(): Promise<void> {
  const big = await run(LEASES, BATCH);
  const aggRow = big.baseline;
  // round() in SQL is half-up, the notes half-even: the totals may differ by the x.xx5 cases.
  console.log(
    `baseline SQL aggregation: ${aggRow.n} lease-hours in ${big.baselineMs.toFixed(0)} ms (${Math.round(big.rows / (big.baselineMs / 1000))} rows/s), Σ ${aggRow.total}`,
  );
  console.log(
    `settlement runDue (batched, ${BATCH} leases per transaction): ${big.notes.notes} debit notes (${big.batched} batched) in ${(big.settleMs / 1000).toFixed(1)} s (${Math.round(big.rows / (big.settleMs / 1000))} lease-hours/s), Σ gross ${big.notes.gross}, ledger balanced`,
  );
  console.log(`ratio settlement / baseline: ${(big.settleMs / big.baselineMs).toFixed(0)}×`);
  if (SAMPLE > 0) {
    const small = await run(SAMPLE, 0);
    const perLeaseRate = small.rows / (small.settleMs / 1000);
    console.log(
      `settlement runDue per lease (batch off, SETTLEMENT_CONCURRENCY=${small.concurrency}): ${small.rows} lease-hours in ${(small.settleMs / 1000).toFixed(1)} s (${Math.round(perLeaseRate)} lease-hours/s)`,
    );
    console.log(
      `ratio batched / per lease (lease-hours/s): ${(big.rows / (big.settleMs / 1000) / perLeaseRate).toFixed(1)}×`,
    );
  }
  const load = (await import('node:os')).loadavg();
  console.log(`load average (1/5/15 min): ${load.map((x) => x.toFixed(2)).join(' / ')}`);
}

async function run(LEASES: number, batchSize: number): Promise<Run> {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const ds = await openDataSource(db.url, 8);
  try {
    const t0 = performance.now();
    // Set-based setup: one resource, LEASES leases (11 h long, so none ends), 100 buyers funded
    // through the ledger (balanced), usage_hours for every lease-hour.
    await client.query(`
      INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry,
        class, form, country, subdivision, site, spec, state)
      VALUES ('00000000-0000-4000-8000-000000000001', 'r-bench', 'cri-bench', 'bench', 
        '00000000-0000-4000-8000-0000000000aa', 'T00001', 'bench', 'I', 'AI', 'VM', 'CN', 'BJ', 'S1',
        '{"cpu": 8, "memGiB": 64, "accel": {"count": 1, "model": "H100"}}', 'running')`);
    await client.query(
      `INSERT INTO leases (order_id, offer_id, resource_id, buyer_org_id, seller_org_id, slots, state,
         starts_at, ends_at, currency, prices, catalog_version, take_rate, settled_until)
       SELECT gen_random_uuid(), gen_random_uuid(), '00000000-0000-4000-8000-000000000001',
              ('00000000-0000-4000-8000-' || lpad((i % 100)::text, 12, '0'))::uuid,
              '00000000-0000-4000-8000-0000000000aa', 1 + i % 4, 'active',
              $1::timestamptz, $1::timestamptz + ($2 + 1) * interval '1 hour', 'CNY',
              '[{"unit": "slot_h", "price": "12.50"}, {"unit": "scu.ai", "price": "9.005"}]',
              '2026.1', 0.05, $1::timestamptz
       FROM generate_series(1, $3) AS i`,
      [T0, HOURS, LEASES],
    );
    await client.query(
      `INSERT INTO usage_hours (lease_id, unit, bucket, quantity)
       SELECT l.id, 'scu.ai', $1::timestamptz + h * interval '1 hour',
              ((abs(hashtext(l.id::text || h)) % 1000) / 1000.0)::numeric(38, 9)
       FROM leases l, generate_series(0, $2 - 1) AS h`,
      [T0, HOURS],
    );
    // Fund the 100 buyers: test_funding → wallet_available, one balanced transaction each.
    await client.query(`
      WITH b AS (SELECT DISTINCT buyer_org_id::text AS owner FROM leases),
      acc AS (
        INSERT INTO ledger_accounts (owner_key, kind, currency, balance)
        SELECT owner, 'wallet_available', 'CNY', 10000000 FROM b
        UNION ALL SELECT 'platform', 'test_funding', 'CNY', -10000000 * (SELECT count(*) FROM b)
        RETURNING id, owner_key, kind),
      tx AS (
        INSERT INTO ledger_transactions (kind, reference, memo)
        SELECT 'wallet_credit_test_mode', 'bench-seed:' || owner, 'bench' FROM b RETURNING id, reference)
      INSERT INTO ledger_entries (transaction_id, account_id, currency, amount)
      SELECT tx.id, a.id, 'CNY', 10000000 FROM tx JOIN acc a ON a.owner_key = substr(tx.reference, 12)
      UNION ALL
      SELECT tx.id, (SELECT id FROM acc WHERE kind = 'test_funding'), 'CNY', -10000000 FROM tx`);
    await client.query('ANALYZE');
    const setupMs = performance.now() - t0;
    const rows = LEASES * HOURS;
    console.log(
      `setup: ${LEASES} leases, ${rows} usage_hours rows in ${(setupMs / 1000).toFixed(1)} s`,
    );

    // Baseline: the same lease-hours rated by one plain SQL aggregation (no ledger, no notes).
    const b0 = performance.now();
    const agg = await client.query(
      `SELECT count(*) AS n, sum(gross) AS total FROM (
         SELECT u.lease_id, u.bucket,
                round(l.slots * 12.50, 2) + round(u.quantity * 9.005, 2) AS gross
         FROM usage_hours u JOIN leases l ON l.id = u.lease_id
         WHERE u.bucket < $1::timestamptz + $2 * interval '1 hour') x`,
      [T0, HOURS],
    );
    const baselineMs = performance.now() - b0;

    const kit = settlementKit(
      ds,
      new SettlementConfig({
        SETTLEMENT_SCHEDULER: 'off',
        SETTLEMENT_CONCURRENCY: Number(process.env.BENCH_CONCURRENCY ?? 4),
        SETTLEMENT_BATCH_SIZE: batchSize,
      }),
    );
    const now = new Date(new Date(T0).getTime() + HOURS * 3_600_000);
    const s0 = performance.now();
    const result = await kit.settlement.runDue(now);
    const settleMs = performance.now() - s0;

    const check = await client.query(
      `SELECT (SELECT count(*) FROM debit_notes)::int AS notes, (SELECT sum(gross) FROM debit_notes)::text AS gross`,
    );
    const tb = await kit.ledger.trialBalance();
    const notes = check.rows[0] as { notes: number; gross: string };
    if (notes.notes !== rows || result.failed.length > 0 || !tb.balanced) {
      throw new Error(
        `bad run: ${JSON.stringify({ notes, failed: result.failed.slice(0, 3), tb })}`,
      );
    }
    return {
      rows,
      baselineMs,
      baseline: agg.rows[0] as { n: string; total: string },
      settleMs,
      notes,
      batched: result.batched,
      concurrency: kit.config.concurrency,
    };
  } finally {
    await ds.destroy();
    await client.end();
    await db.drop();
  }
}

await main();
