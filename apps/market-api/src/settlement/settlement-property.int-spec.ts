import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { Decimal } from '@suanli/money';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import type { DomainError } from '../common/errors.js';
import type { PriceRow } from '../database/market.entities.js';
import { SettlementConfig } from './settlement.config.js';
import {
  checkInvariants,
  openDataSource,
  placeLease,
  recordUsage,
  reportOnline,
  settlementKit,
  type SettlementKit,
} from './testing/settlement-fixtures.js';

jest.setTimeout(600_000);

// Property: random leases of every pricing model, settled hour by hour on two databases — one
// per lease only (SETTLEMENT_BATCH_SIZE 0), one batched (small chunks, two workers) — write the
// same debit notes, postings, balances, lease states and invoices; every invoice is Σ of its
// debit notes − credits; every trial balance is zero (checkInvariants, after every run).

const HOUR = 3_600_000;
const MIN = 60_000;
const SELLER = '00000000-0000-4000-8000-00000000a001';

const MODELS = [
  'fixed_slot',
  'fixed_unit',
  'fixed_both',
  'tiered_unit',
  'tiered_slot',
  'reserved_slot',
  'reserved_unit',
  'interruptible',
] as const;
type Model = (typeof MODELS)[number];

function pricesOf(model: Model, bid: string): PriceRow[] {
  switch (model) {
    case 'fixed_slot':
      return [{ unit: 'slot_h', price: '12.50' }];
    case 'fixed_unit':
      return [{ unit: 'scu.ai', price: '9.005' }];
    case 'fixed_both':
      return [
        { unit: 'slot_h', price: '3.35' },
        { unit: 'scu.ai', price: '7.125' },
      ];
    case 'tiered_unit':
      return [
        {
          unit: 'scu.ai',
          price: '9.00',
          model: 'tiered',
          tiers: [
            { upTo: '0.7', price: '9.00' },
            { upTo: '1.9', price: '8.05' },
            { upTo: null, price: '7.35' },
          ],
        },
      ];
    case 'tiered_slot':
      return [
        {
          unit: 'slot_h',
          price: '13.545',
          model: 'tiered',
          tiers: [
            { upTo: '1', price: '13.545' },
            { upTo: '2.5', price: '12.00' },
            { upTo: null, price: '10.10' },
          ],
        },
      ];
    case 'reserved_slot':
      return [
        {
          unit: 'slot_h',
          price: '12.00',
          model: 'reserved',
          reserved: { quantity: '1.5', price: '10.00' },
        },
      ];
    case 'reserved_unit':
      return [
        {
          unit: 'scu.ai',
          price: '9.50',
          model: 'reserved',
          reserved: { quantity: '0.8', price: '8.00' },
        },
      ];
    case 'interruptible':
      return [{ unit: 'slot_h', price: bid, model: 'interruptible' }];
  }
}

const leaseArb = fc.record({
  model: fc.constantFrom(...MODELS),
  slots: fc.integer({ min: 1, max: 3 }),
  /** Start, in seconds after the run's first hour. */
  startSecond: fc.integer({ min: 0, max: 3599 }),
  hours: fc.integer({ min: 1, max: 4 }),
  /** Usage per hour as thousandths of a scu.ai per slot (at most 0.989 per slot on an H100). */
  usage: fc.array(fc.integer({ min: 0, max: 989 }), { minLength: 6, maxLength: 6 }),
  /** The wallet: plenty, or tight enough to suspend. */
  funds: fc.constantFrom('2000.00', '45.00', '18.00'),
  /** A top-up after some hour (a suspended lease may resume). */
  topUpAfter: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  /** Cancelled by the buyer this many seconds after its start. */
  cancelAfter: fc.option(fc.integer({ min: 60, max: 4 * 3600 }), { nil: null }),
  /** Offline minutes (SLA), as a range of minutes after the start. */
  outage: fc.option(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 30 })), {
    nil: null,
  }),
  /** Interruptible: pauses as [start, length] seconds after the lease's start. */
  pauses: fc.array(
    fc.tuple(fc.integer({ min: 0, max: 4 * 3600 }), fc.integer({ min: 1, max: 5400 })),
    {
      maxLength: 2,
    },
  ),
  bid: fc.constantFrom('5.00', '6.35', '7.125'),
});

type Lease = typeof leaseArb extends fc.Arbitrary<infer T> ? T : never;

interface Side {
  db: TestDatabase;
  ds: DataSource;
  kit: SettlementKit;
}

async function side(batchSize: number, concurrency: number): Promise<Side> {
  const db = await createTestDatabase();
  const ds = await openDataSource(db.url, 6);
  const kit = settlementKit(
    ds,
    new SettlementConfig({
      SETTLEMENT_SCHEDULER: 'off',
      SETTLEMENT_BATCH_SIZE: batchSize,
      SETTLEMENT_CONCURRENCY: concurrency,
    }),
  );
  return { db, ds, kit };
}

/** What settlement wrote, for the given leases, without ids that differ between databases. */
async function written(s: Side, leases: string[]): Promise<unknown> {
  const notes = await s.ds.query(
    `SELECT lease_id, kind, period_start, period_end, lines, gross::text, fee::text, net::text
       FROM debit_notes WHERE lease_id = ANY($1::uuid[]) ORDER BY lease_id, period_start, kind`,
    [leases],
  );
  const postings = await s.ds.query(
    `SELECT t.kind, t.reference, t.memo,
            json_agg(json_build_array(a.owner_key, a.kind, e.amount::text)
                     ORDER BY a.owner_key, a.kind, e.amount) FILTER (WHERE e.id IS NOT NULL) AS entries
       FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
       LEFT JOIN ledger_accounts a ON a.id = e.account_id
      WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS l(id) WHERE t.reference LIKE '%' || l.id || '%')
      GROUP BY t.id ORDER BY t.reference`,
    [leases],
  );
  const leaseRows = await s.ds.query(
    `SELECT id, state, settled_until, ended_at, end_reason, escrow_held::text
       FROM leases WHERE id = ANY($1::uuid[]) ORDER BY id`,
    [leases],
  );
  const invoices = await s.ds.query(
    `SELECT lease_id, lines, subtotal::text, credits::text, total::text, fee::text, sla
       FROM invoices WHERE lease_id = ANY($1::uuid[]) ORDER BY lease_id`,
    [leases],
  );
  const accounts = await s.ds.query(
    `SELECT owner_key, kind, balance::text FROM ledger_accounts a
      WHERE EXISTS (SELECT 1 FROM ledger_entries e WHERE e.account_id = a.id)
      ORDER BY owner_key, kind`,
  );
  return { notes, postings, leases: leaseRows, invoices, accounts };
}

describe('settlement property: batched = per lease, for every pricing model', () => {
  let perLease: Side;
  let batched: Side;
  beforeAll(async () => {
    perLease = await side(0, 2);
    batched = await side(3, 2);
  }, 120_000);
  afterAll(async () => {
    for (const s of [perLease, batched]) {
      await s?.ds.destroy();
      await s?.db.drop();
    }
  });

  it('writes the same notes, postings, balances, states and invoices; the books always balance', async () => {
    let run = 0;
    let batchedNotes = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(leaseArb, { minLength: 1, maxLength: 5 }), async (book) => {
        run += 1;
        // Each run has its own day, buyers and leases: runs never touch each other's rows.
        const t0 = Date.UTC(2026, 0, 1) + run * 24 * HOUR;
        const offerId = randomUUID();
        const placed: (Lease & { id: string; buyer: string })[] = [];
        for (const l of book.map((x) => ({ ...x, id: randomUUID(), buyer: randomUUID() }))) {
          // A wallet that cannot cover the first hold (and block) refuses the order on both.
          const refused = [];
          for (const s of [perLease, batched]) {
            const startsAt = new Date(t0 + l.startSecond * 1000);
            await s.kit.wallets.credit(l.buyer, 'CNY', l.funds, `fund-${l.buyer}`);
            const ok = await placeLease(s.kit, {
              id: l.id,
              buyerOrgId: l.buyer,
              sellerOrgId: SELLER,
              offerId,
              slots: l.slots,
              prices: pricesOf(l.model, l.bid),
              bid: l.model === 'interruptible' ? l.bid : undefined,
              startsAt,
              hours: l.hours,
            }).then(
              () => true,
              (e: unknown) => {
                if ((e as DomainError).code !== 'insufficient_funds') throw e;
                return false;
              },
            );
            refused.push(!ok);
            if (!ok) continue;
            for (let h = 0; h < 6; h += 1) {
              const q = new Decimal(l.usage[h]).times(l.slots).div(1000).toFixed(3);
              await recordUsage(s.ds, l.id, 'scu.ai', new Date(t0 + h * HOUR), q);
            }
            if (l.outage) {
              const from = new Date(startsAt.getTime() + l.outage[0] * MIN);
              const to = new Date(from.getTime() + l.outage[1] * MIN);
              const [{ resource_id: resourceId }] = await s.ds.query(
                'SELECT resource_id FROM leases WHERE id = $1',
                [l.id],
              );
              await reportOnline(s.ds, resourceId, from, to, 'offline');
            }
            if (l.model === 'interruptible') {
              for (const [at, length] of l.pauses) {
                const pausedAt = new Date(startsAt.getTime() + at * 1000);
                await s.ds.query(
                  `INSERT INTO lease_interruptions (lease_id, offer_id, paused_at, pause_reason,
                     pause_details, resumed_at, resume_reason)
                   VALUES ($1, $2, $3, 'outbid', '{}', $4, 'capacity_freed')`,
                  [l.id, offerId, pausedAt, new Date(pausedAt.getTime() + length * 1000)],
                );
              }
            }
          }
          expect(refused[1]).toBe(refused[0]);
          if (!refused[0]) placed.push(l);
        }
        for (let h = 1; h <= 7; h += 1) {
          const now = new Date(t0 + h * HOUR + 30_500);
          for (const l of placed) {
            if (l.cancelAfter === null) continue;
            const at = t0 + l.startSecond * 1000 + l.cancelAfter * 1000;
            if (at > now.getTime() - HOUR && at <= now.getTime()) {
              for (const s of [perLease, batched]) {
                await s.ds.query(
                  `UPDATE leases SET state = 'ended', ended_at = LEAST($2, ends_at),
                          end_reason = 'cancelled_by_buyer'
                    WHERE id = $1 AND state <> 'ended'`,
                  [l.id, new Date(at)],
                );
              }
            }
          }
          const a = await perLease.kit.settlement.runDue(now);
          const b = await batched.kit.settlement.runDue(now);
          expect(a.failed).toEqual([]);
          expect(b.failed).toEqual([]);
          expect(a.batched).toBe(0);
          batchedNotes += b.batched;
          expect(b.debitNotes).toBe(a.debitNotes);
          for (const l of placed) {
            if (l.topUpAfter !== h) continue;
            for (const s of [perLease, batched]) {
              await s.kit.wallets.credit(l.buyer, 'CNY', '60.00', `top-up-${l.buyer}`);
            }
          }
          const ids = placed.map((l) => l.id);
          expect(await written(batched, ids)).toEqual(await written(perLease, ids));
        }
        for (const s of [perLease, batched]) {
          await checkInvariants(s.kit);
          expect((await s.kit.ledger.trialBalance()).balanced).toBe(true);
        }
      }),
      { numRuns: Number(process.env.SETTLEMENT_PROPERTY_RUNS ?? 12) },
    );
    expect(batchedNotes).toBeGreaterThan(0);
  });
});
