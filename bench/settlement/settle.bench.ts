// Settlement benchmark: the hourly run (SettlementService.runDue) settling BENCH_LEASES ×
// BENCH_HOURS lease-hours (default 10,000 × 10 = 100,000) across all four pricing models — a
// quarter each of fixed (per slot-hour and per scu.ai), tiered (scu.ai), reserved (a 3 slot-hour
// block, then on demand) and interruptible (paused 20 minutes in every third hour) — writing the
// debit notes, ledger postings, escrow updates and settlement-log leaves. Beside it, in the same
// run and database: a plain SQL aggregation that reads and rates the same usage rows in one query.
// BENCH_PER_LEASE_SAMPLE leases are also settled the per-lease way (batch off) in a second
// database, for the ratio batched / per lease.
//
//   DATABASE_URL=... node --import @swc-node/register/esm-register bench/settlement/settle.bench.ts
//
// Options (env): BENCH_LEASES (10000), BENCH_HOURS (10), BENCH_BATCH_SIZE (1000 leases per
// chunk), BENCH_CONCURRENCY (2 chunks at once), BENCH_PER_LEASE_SAMPLE (100 leases; 0 = skip).
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { LedgerPosting } from '../../apps/market-api/src/ledger/ledger.service.js';
import type { PriceRow } from '../../apps/market-api/src/database/market.entities.js';
import { holdReference } from '../../apps/market-api/src/settlement/escrow.service.js';
import { escrowHold } from '../../apps/market-api/src/settlement/rating.js';
import { SettlementConfig } from '../../apps/market-api/src/settlement/settlement.config.js';
import {
  openDataSource,
  settlementKit,
  type SettlementKit,
} from '../../apps/market-api/src/settlement/testing/settlement-fixtures.js';
import { createTestDatabase } from '../../test/support/db.js';

const LEASES = Number(process.env.BENCH_LEASES ?? 10_000);
const HOURS = Number(process.env.BENCH_HOURS ?? 10);
const BATCH = Number(process.env.BENCH_BATCH_SIZE ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);
const SAMPLE = Number(process.env.BENCH_PER_LEASE_SAMPLE ?? 100);
const T0 = '2026-06-01T00:00:00Z';
const BUYERS = 100;
const RESOURCE = '00000000-0000-4000-8000-000000000001';
const SELLER = '00000000-0000-4000-8000-0000000000aa';
const SPEC = { cpu: 8, memGiB: 64, accel: { count: 1, model: 'H100' } };

/** The four models' price rows, by `i % 4` (the hold: 1 H100 = 0.989 scu.ai per slot-hour). */
const PRICES = [
  '[{"unit": "slot_h", "price": "12.50"}, {"unit": "scu.ai", "price": "9.005"}]',
  '[{"unit": "scu.ai", "price": "9.00", "model": "tiered", "tiers": [{"upTo": "2", "price": "9.00"}, {"upTo": null, "price": "8.00"}]}]',
  '[{"unit": "slot_h", "price": "12.00", "model": "reserved", "reserved": {"quantity": "3", "price": "10.00"}}]',
  '[{"unit": "slot_h", "price": "5.00", "model": "interruptible"}]',
];

interface Run {
  rows: number;
  setupMs: number;
  baselineMs: number;
  settleMs: number;
  notes: number;
  batched: number;
  leaves: number;
  gross: string;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const big = await run(LEASES, BATCH);
  const rate = (r: Run) => Math.round(r.rows / (r.settleMs / 1000));
  console.log(
    `baseline SQL aggregation: ${big.rows} lease-hours in ${big.baselineMs.toFixed(0)} ms (${Math.round(big.rows / (big.baselineMs / 1000))} rows/s)`,
  );
  console.log(
    `settlement runDue (batched, ${BATCH} leases per chunk, ${CONCURRENCY} at once): ${big.notes} debit notes (${big.batched} batched), ${big.leaves} settlement-log leaves in ${(big.settleMs / 1000).toFixed(1)} s (${rate(big)} lease-hours/s), Σ gross ${big.gross}, ledger balanced`,
  );
  console.log(`ratio settlement / baseline: ${(big.settleMs / big.baselineMs).toFixed(0)}×`);
  if (SAMPLE > 0) {
    const small = await run(SAMPLE, 0);
    console.log(
      `settlement runDue per lease (batch off, concurrency ${CONCURRENCY}): ${small.rows} lease-hours in ${(small.settleMs / 1000).toFixed(1)} s (${rate(small)} lease-hours/s)`,
    );
    console.log(
      `ratio batched / per lease (lease-hours/s): ${(rate(big) / rate(small)).toFixed(1)}×`,
    );
  }
  const load1 = loadavg();
  console.log(
    `load average (1/5/15 min) at start: ${load0.map((x) => x.toFixed(2)).join(' / ')}; at end: ${load1.map((x) => x.toFixed(2)).join(' / ')}`,
  );
}

async function run(leases: number, batchSize: number): Promise<Run> {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const ds = await openDataSource(db.url, 8);
  try {
    const kit = settlementKit(
      ds,
      new SettlementConfig({
        SETTLEMENT_SCHEDULER: 'off',
        SETTLEMENT_CONCURRENCY: CONCURRENCY,
        SETTLEMENT_BATCH_SIZE: batchSize,
      }),
    );
    const t0 = performance.now();
    await setup(client, kit, leases);
    const setupMs = performance.now() - t0;
    const rows = leases * HOURS;
    console.log(
      `setup: ${leases} leases (4 models), ${rows} usage_hours rows in ${(setupMs / 1000).toFixed(1)} s`,
    );

    // Baseline: the same usage rows read and rated by one plain SQL aggregation (writes nothing).
    const b0 = performance.now();
    await client.query(
      `SELECT count(*) AS n, sum(gross) AS total FROM (
         SELECT u.lease_id, u.bucket, round(l.slots * 12.50, 2) + round(u.quantity * 9.005, 2) AS gross
         FROM usage_hours u JOIN leases l ON l.id = u.lease_id
         WHERE u.bucket < $1::timestamptz + $2 * interval '1 hour') x`,
      [T0, HOURS],
    );
    const baselineMs = performance.now() - b0;

    const now = new Date(new Date(T0).getTime() + HOURS * 3_600_000);
    const s0 = performance.now();
    const result = await kit.settlement.runDue(now);
    const settleMs = performance.now() - s0;

    const check = await client.query<{ notes: number; gross: string; leaves: number }>(
      `SELECT (SELECT count(*) FROM debit_notes WHERE kind = 'period')::int AS notes,
              (SELECT sum(gross) FROM debit_notes WHERE kind = 'period')::text AS gross,
              (SELECT count(*) FROM settlement_log_leaves l JOIN debit_notes d
                 ON l.kind = 'debit_note' AND l.record_id = d.id::text AND d.kind = 'period')::int AS leaves`,
    );
    const tb = await kit.ledger.trialBalance();
    const c = check.rows[0];
    if (c.notes !== rows || c.leaves !== rows || result.failed.length > 0 || !tb.balanced) {
      throw new Error(`bad run: ${JSON.stringify({ c, failed: result.failed.slice(0, 3), tb })}`);
    }
    return {
      rows,
      setupMs,
      baselineMs,
      settleMs,
      notes: c.notes,
      batched: result.batched,
      leaves: c.leaves,
      gross: c.gross,
    };
  } finally {
    await ds.destroy();
    await client.end();
    await db.drop();
  }
}

/**
 * One resource; `leases` leases (HOURS + 1 hours long, so none ends) of the four models on 100
 * buyers; usage in every hour; a 20-minute pause in every third hour of the interruptible ones.
 * Money goes through the ledger's one path (postMany): the buyers' funding and every lease's
 * first hold.
 */
async function setup(client: pg.Client, kit: SettlementKit, leases: number): Promise<void> {
  await client.query(
    `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry,
       class, form, country, subdivision, site, spec, state)
     VALUES ($1, 'r-bench', 'cri-bench', 'bench', $2, 'T00001', 'bench', 'I', 'AI', 'VM', 'CN',
       'BJ', 'S1', $3, 'running')`,
    [RESOURCE, SELLER, JSON.stringify(SPEC)],
  );
  const rows = await client.query<{ id: string; buyer: string; slots: number; prices: PriceRow[] }>(
    `INSERT INTO leases (order_id, offer_id, resource_id, buyer_org_id, seller_org_id, slots, state,
       starts_at, ends_at, currency, prices, catalog_version, take_rate, settled_until, bid)
     SELECT gen_random_uuid(), gen_random_uuid(), $1,
            ('00000000-0000-4000-8000-' || lpad((i % $5)::text, 12, '0'))::uuid, $2, 1 + i % 3,
            'active', $3::timestamptz, $3::timestamptz + ($4 + 1) * interval '1 hour', 'CNY',
            ($6::text[])[1 + i % 4]::jsonb, '2026.1', 0.05, $3::timestamptz,
            CASE WHEN i % 4 = 3 THEN 5.00 END
       FROM generate_series(1, $7) AS i
     RETURNING id, buyer_org_id AS buyer, slots, prices`,
    [RESOURCE, SELLER, T0, HOURS, BUYERS, PRICES, leases],
  );
  await client.query(
    `INSERT INTO usage_hours (lease_id, unit, bucket, quantity)
     SELECT l.id, 'scu.ai', $1::timestamptz + h * interval '1 hour',
            ((abs(hashtext(l.id::text || h)) % 989) / 1000.0 * l.slots)::numeric(38, 9)
       FROM leases l, generate_series(0, $2 - 1) AS h`,
    [T0, HOURS],
  );
  await client.query(
    `INSERT INTO lease_interruptions (lease_id, offer_id, paused_at, pause_reason, resumed_at, resume_reason)
     SELECT l.id, l.offer_id, $1::timestamptz + h * interval '1 hour' + interval '20 minutes',
            'outbid', $1::timestamptz + h * interval '1 hour' + interval '40 minutes', 'capacity_freed'
       FROM leases l, generate_series(0, $2 - 1, 3) AS h
      WHERE l.bid IS NOT NULL`,
    [T0, HOURS],
  );

  const start = new Date(T0);
  const postings: LedgerPosting[] = [];
  const buyers = [...new Set(rows.rows.map((r) => r.buyer))];
  for (const b of buyers) {
    postings.push({
      kind: 'wallet_credit_test_mode',
      reference: `bench-fund:${b}`,
      entries: [
        { ownerKey: 'platform', kind: 'test_funding', currency: 'CNY', amount: '-10000000.00' },
        { ownerKey: b, kind: 'wallet_available', currency: 'CNY', amount: '10000000.00' },
      ],
    });
  }
  // Every lease's first hold, as the orders service takes it. (The reserved leases' blocks are
  // paid when they are ordered, outside the hourly run.)
  const held: { id: string; amount: string }[] = [];
  for (const r of rows.rows) {
    const amount = escrowHold({
      currency: 'CNY',
      slots: r.slots,
      prices: r.prices,
      spec: SPEC,
      computeClass: 'AI',
      catalog: '2026.1',
    }).toString();
    held.push({ id: r.id, amount });
    postings.push({
      kind: 'escrow_hold',
      reference: holdReference(r.id, start),
      entries: [
        { ownerKey: r.buyer, kind: 'wallet_available', currency: 'CNY', amount: `-${amount}` },
        { ownerKey: r.buyer, kind: 'wallet_held', currency: 'CNY', amount },
      ],
    });
  }
  await kit.ds.transaction(async (m) => {
    for (let i = 0; i < postings.length; i += 20_000) {
      await kit.ledger.postMany(m, postings.slice(i, i + 20_000));
    }
    await m.query(
      `UPDATE leases l SET escrow_held = v.a FROM unnest($1::uuid[], $2::numeric[]) AS v(id, a)
        WHERE l.id = v.id`,
      [held.map((h) => h.id), held.map((h) => h.amount)],
    );
  });
  await client.query('ANALYZE');
}

await main();
