import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { Money } from '@suanli/money';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import type { Principal } from '../auth/auth.decorators.js';
import { DomainError } from '../common/errors.js';
import { LeaseEntity } from '../database/market.entities.js';
import { DebitNoteEntity, InvoiceEntity } from '../database/settlement.entities.js';
import { buyerPseudonym } from './pseudonym.js';
import { SettlementConfig } from './settlement.config.js';
import {
  checkInvariants,
  openDataSource,
  placeLease,
  recordUsage,
  settlementKit,
  snapshot,
  type SettlementKit,
} from './testing/settlement-fixtures.js';

let db: TestDatabase;
let ds: DataSource;
let kit: SettlementKit;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await openDataSource(db.url, 8);
  kit = settlementKit(ds);
}, 60_000);

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

const at = (iso: string): Date => new Date(iso);
const lease = (id: string) => ds.getRepository(LeaseEntity).findOneByOrFail({ id });
const notes = (leaseId: string) =>
  ds.getRepository(DebitNoteEntity).find({ where: { leaseId }, order: { periodStart: 'ASC' } });
const wallet = async (org: string) => (await kit.wallets.view(org)).balances[0];
const principal = (orgId: string, ...roles: Principal['roles']): Principal => ({
  userId: randomUUID(),
  orgId,
  roles,
});

describe('settlement cycle', () => {
  it('holds, issues debit notes per completed hour, releases, re-holds and invoices at the end', async () => {
    const buyer = randomUUID();
    const seller = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', '1000.00', `seed-${buyer}`);
    const l = await placeLease(kit, {
      buyerOrgId: buyer,
      sellerOrgId: seller,
      slots: 2,
      prices: [
        { unit: 'slot_h', price: '12.50' },
        { unit: 'scu.ai', price: '9.00' },
      ],
      startsAt: at('2026-03-02T10:20:00Z'),
      hours: 3,
    });
    // Hold: 2 × 12.50 + 2 × 0.989 scu.ai (one H100) × 9.00 = 42.802 → 42.81 (rounded up).
    expect(await wallet(buyer)).toEqual({
      currency: 'CNY',
      available: '957.19',
      held: '42.81',
      total: '1000.00',
    });
    await recordUsage(ds, l.id, 'scu.ai', at('2026-03-02T10:00:00Z'), '1.200000000');

    // The hour is not over: nothing is due.
    const early = await kit.settlement.runDue(at('2026-03-02T10:59:59Z'));
    expect(early.debitNotes).toBe(0);

    const r1 = await kit.settlement.runDue(at('2026-03-02T11:00:00Z'));
    expect(r1).toMatchObject({ debitNotes: 1, suspended: 0, failed: [] });
    const [n1] = await notes(l.id);
    expect(n1.periodStart.toISOString()).toBe('2026-03-02T10:20:00.000Z');
    expect(n1.periodEnd.toISOString()).toBe('2026-03-02T11:00:00.000Z');
    // 2 slots × 40 min = 1.333… slot-h × 12.50 = 16.666… → 16.67; 1.2 scu.ai × 9 = 10.80.
    expect(n1.lines.map((x) => [x.unit, x.quantity, x.amount])).toEqual([
      ['slot_h', '1.333333333', '16.67'],
      ['scu.ai', '1.2', '10.80'],
    ]);
    expect([n1.gross, n1.fee, n1.net]).toEqual(['27.470000000', '1.370000000', '26.100000000']);
    // Paid from the hold, the rest (15.34) released, the next hour held again.
    expect(await wallet(buyer)).toEqual({
      currency: 'CNY',
      available: '929.72',
      held: '42.81',
      total: '972.53',
    });
    expect((await lease(l.id)).settledUntil.toISOString()).toBe('2026-03-02T11:00:00.000Z');
    await checkInvariants(kit);

    // Re-running at the same instant changes nothing.
    const before = await snapshot(ds);
    const again = await kit.settlement.runDue(at('2026-03-02T11:00:00Z'));
    expect(again.debitNotes).toBe(0);
    expect(await snapshot(ds)).toBe(before);

    // 13:30: hours 11 and 12 are complete; the last partial period (13:00–13:20) is not yet.
    await recordUsage(ds, l.id, 'scu.ai', at('2026-03-02T11:00:00Z'), '1.978');
    const r2 = await kit.settlement.runDue(at('2026-03-02T13:30:00Z'));
    expect(r2).toMatchObject({ debitNotes: 2, ended: 0 });
    expect((await lease(l.id)).state).toBe('active');

    const r3 = await kit.settlement.runDue(at('2026-03-02T14:00:00Z'));
    expect(r3).toMatchObject({ debitNotes: 1, ended: 1, invoices: 1 });
    const ended = await lease(l.id);
    expect(ended).toMatchObject({ state: 'ended', endReason: 'completed' });
    expect(ended.endedAt?.toISOString()).toBe('2026-03-02T13:20:00.000Z');
    const all = await notes(l.id);
    expect(all.map((n) => [n.periodStart.toISOString().slice(11, 16), n.gross])).toEqual([
      ['10:20', '27.470000000'],
      ['11:00', '42.800000000'], // 25.00 + 1.978 × 9 = 17.802 → 17.80
      ['12:00', '25.000000000'],
      ['13:00', '8.330000000'], // 2 × 20 min × 12.50 = 8.333… → 8.33
    ]);
    // Nothing stays held; the buyer paid exactly Σ gross.
    expect(await wallet(buyer)).toEqual({
      currency: 'CNY',
      available: '896.40',
      held: '0.00',
      total: '896.40',
    });

    const invoice = await ds.getRepository(InvoiceEntity).findOneByOrFail({ leaseId: l.id });
    expect(invoice.number).toMatch(/^INV-2026-\d{6}$/);
    expect(invoice).toMatchObject({
      subtotal: '103.600000000',
      credits: '0.000000000',
      total: '103.600000000',
      fee: '5.180000000', // 1.37 + 2.14 + 1.25 + 0.42
      debitNoteIds: all.map((n) => n.id),
    });
    expect(invoice.lines).toEqual([
      {
        description: 'Slot-hours',
        unit: 'slot_h',
        quantity: '6',
        unitPrice: '12.50',
        amount: '75.00',
      },
      {
        description: 'AI standard compute units (scu.ai)',
        unit: 'scu.ai',
        quantity: '3.178',
        unitPrice: '9.00',
        amount: '28.60',
      },
    ]);
    const payable = await kit.ledger.balances(seller);
    expect(payable).toEqual([{ kind: 'seller_payable', currency: 'CNY', balance: '98.42' }]);
    await checkInvariants(kit);

    // Running everything again, later, is a no-op.
    const done = await snapshot(ds);
    await kit.settlement.runDue(at('2026-03-02T18:00:00Z'));
    expect(await snapshot(ds)).toBe(done);

    // Reading: buyer sees its own invoice; the seller sees the buyer pseudonymized; others 404.
    const asBuyer = await kit.invoices.get(principal(buyer, 'buyer'), invoice.id);
    expect(asBuyer).toMatchObject({
      buyerOrgId: buyer,
      subtotal: '103.60',
      total: '103.60',
      credits: '0.00',
    });
    const asSeller = await kit.invoices.get(principal(seller, 'seller'), invoice.id);
    expect(asSeller.buyerOrgId).toBe(buyerPseudonym(kit.config.pseudonymSecret, buyer, seller));
    expect(asSeller.buyerOrgId).not.toContain(buyer);
    const stranger = principal(randomUUID(), 'buyer', 'seller');
    await expect(kit.invoices.get(stranger, invoice.id)).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
    });
    // A seller org reading as buyer only sees its own purchases.
    expect((await kit.invoices.list(principal(seller, 'buyer'))).items).toHaveLength(0);
    expect((await kit.invoices.list(principal(seller, 'seller'))).items.map((i) => i.id)).toEqual([
      invoice.id,
    ]);
    const dn = await kit.invoices.debitNotes(principal(seller, 'seller'), l.id);
    expect(dn.items.map((n) => n.gross)).toEqual(['27.47', '42.80', '25.00', '8.33']);
    await expect(kit.invoices.debitNotes(stranger, l.id)).rejects.toBeInstanceOf(DomainError);
  });

  it('suspends a lease the wallet cannot cover and ends it after the grace period', async () => {
    const buyer = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', '20.00', `seed-${buyer}`);
    const l = await placeLease(kit, {
      buyerOrgId: buyer,
      startsAt: at('2026-04-01T10:00:00Z'),
      hours: 5,
    });
    expect(await wallet(buyer)).toMatchObject({ available: '7.50', held: '12.50' });

    const r = await kit.settlement.runDue(at('2026-04-01T11:00:30Z'));
    expect(r).toMatchObject({ debitNotes: 1, suspended: 1 });
    expect(await lease(l.id)).toMatchObject({ state: 'suspended' });
    expect(await wallet(buyer)).toMatchObject({ available: '7.50', held: '0.00', total: '7.50' });
    await checkInvariants(kit);

    // Within the grace period: still suspended, nothing billed.
    await kit.settlement.runDue(at('2026-04-01T11:14:00Z'));
    expect(await lease(l.id)).toMatchObject({ state: 'suspended' });
    expect(await notes(l.id)).toHaveLength(1);

    await kit.settlement.runDue(at('2026-04-01T11:16:00Z'));
    const ended = await lease(l.id);
    expect(ended).toMatchObject({ state: 'ended', endReason: 'insufficient_funds' });
    expect(ended.endedAt?.toISOString()).toBe('2026-04-01T11:15:00.000Z');
    expect(await notes(l.id)).toHaveLength(1);
    const invoice = await ds.getRepository(InvoiceEntity).findOneByOrFail({ leaseId: l.id });
    expect(invoice.total).toBe('12.500000000');
    await checkInvariants(kit);
  });

  it('resumes a suspended lease after a top-up, without billing the suspended time', async () => {
    const buyer = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', '20.00', `seed-${buyer}`);
    const l = await placeLease(kit, {
      buyerOrgId: buyer,
      startsAt: at('2026-04-02T10:00:00Z'),
      hours: 3,
    });
    await kit.settlement.runDue(at('2026-04-02T11:00:00Z'));
    expect(await lease(l.id)).toMatchObject({ state: 'suspended' });

    await kit.wallets.credit(buyer, 'CNY', '20.00', `topup-${buyer}`);
    const r = await kit.settlement.runDue(at('2026-04-02T11:05:30.250Z'));
    expect(r.resumed).toBe(1);
    const resumed = await lease(l.id);
    expect(resumed.state).toBe('active');
    expect(resumed.settledUntil.toISOString()).toBe('2026-04-02T11:05:30.000Z');
    expect(await wallet(buyer)).toMatchObject({ available: '15.00', held: '12.50' });
    await checkInvariants(kit);

    await kit.settlement.runDue(at('2026-04-02T12:00:00Z'));
    const ns = await notes(l.id);
    // 3270 s of 1 slot at 12.50 = 11.354… → 11.35.
    expect(ns.map((n) => [n.periodStart.toISOString().slice(11, 19), n.gross])).toEqual([
      ['10:00:00', '12.500000000'],
      ['11:05:30', '11.350000000'],
    ]);
    await kit.settlement.runDue(at('2026-04-02T13:00:00Z'));
    expect(await lease(l.id)).toMatchObject({ state: 'ended', endReason: 'completed' });
    expect(await wallet(buyer)).toMatchObject({ available: '3.65', held: '0.00', total: '3.65' });
    await checkInvariants(kit);
  });

  it('charges usage beyond the hold from available, books the rest as owed and suspends', async () => {
    const buyer = randomUUID();
    const seller = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', '13.00', `seed-${buyer}`);
    const l = await placeLease(kit, {
      buyerOrgId: buyer,
      sellerOrgId: seller,
      prices: [
        { unit: 'slot_h', price: '12.50' },
        { unit: 'api.call', price: '0.01' },
      ],
      startsAt: at('2026-04-04T10:00:00Z'),
      hours: 3,
    });
    // api.call has no physical bound: only the slot-hour is held.
    expect(await wallet(buyer)).toMatchObject({ available: '0.50', held: '12.50' });
    await recordUsage(ds, l.id, 'api.call', at('2026-04-04T10:00:00Z'), '1000');

    const r = await kit.settlement.runDue(at('2026-04-04T11:00:00Z'));
    expect(r).toMatchObject({ debitNotes: 1, suspended: 1, failed: [] });
    const [n] = await notes(l.id);
    // 12.50 + 10.00 = 22.50; fee 1.125 → 1.12 (half-even); net 21.38.
    expect([n.gross, n.fee, n.net]).toEqual(['22.500000000', '1.120000000', '21.380000000']);
    expect(await wallet(buyer)).toMatchObject({ available: '0.00', held: '0.00' });
    expect((await ds.transaction((m) => kit.wallets.owed(m, buyer, 'CNY'))).toString()).toBe(
      '9.50',
    );
    expect(await lease(l.id)).toMatchObject({ state: 'suspended' });
    await checkInvariants(kit);

    // A top-up pays what is owed first; the next run resumes the lease with a fresh hold.
    await kit.wallets.credit(buyer, 'CNY', '30.00', `topup-${buyer}`);
    expect(await wallet(buyer)).toMatchObject({ available: '20.50', held: '0.00' });
    expect((await ds.transaction((m) => kit.wallets.owed(m, buyer, 'CNY'))).isZero()).toBe(true);
    const resumed = await kit.settlement.runDue(at('2026-04-04T11:05:00Z'));
    expect(resumed.resumed).toBe(1);
    expect(await wallet(buyer)).toMatchObject({ available: '8.00', held: '12.50' });
    await checkInvariants(kit);
    expect(await kit.ledger.balances(seller)).toEqual([
      { kind: 'seller_payable', currency: 'CNY', balance: '21.38' },
    ]);
  });

  it('settles a lease ended elsewhere up to ended_at and releases its hold', async () => {
    const buyer = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', '100.00', `seed-${buyer}`);
    const l = await placeLease(kit, {
      buyerOrgId: buyer,
      startsAt: at('2026-04-03T10:00:00Z'),
      hours: 4,
    });
    await ds
      .getRepository(LeaseEntity)
      .update(
        { id: l.id },
        { state: 'ended', endedAt: at('2026-04-03T10:30:00Z'), endReason: 'cancelled_by_buyer' },
      );
    await kit.settlement.runDue(at('2026-04-03T10:45:00Z'));
    expect(await ds.getRepository(InvoiceEntity).countBy({ leaseId: l.id })).toBe(0);
    await kit.settlement.runDue(at('2026-04-03T11:00:00Z'));
    const [n] = await notes(l.id);
    expect([n.periodEnd.toISOString(), n.gross]).toEqual([
      '2026-04-03T10:30:00.000Z',
      '6.250000000',
    ]);
    expect(await wallet(buyer)).toMatchObject({ available: '93.75', held: '0.00' });
    expect(await ds.getRepository(InvoiceEntity).countBy({ leaseId: l.id })).toBe(1);
    await checkInvariants(kit);
  });

  it('honours a settlement lag: an hour is settled only lag minutes after it closes', async () => {
    const lagged = settlementKit(
      ds,
      new SettlementConfig({ SETTLEMENT_SCHEDULER: 'off', SETTLEMENT_LAG_MINUTES: 10 }),
    );
    const buyer = randomUUID();
    await lagged.wallets.credit(buyer, 'CNY', '100.00', `seed-${buyer}`);
    // A year far from the other tests' hours, so only this lease is due.
    const l = await placeLease(lagged, {
      buyerOrgId: buyer,
      startsAt: at('2031-01-01T10:00:00Z'),
      hours: 2,
    });
    await lagged.settlement.runDue(at('2031-01-01T11:05:00Z'));
    expect(await notes(l.id)).toHaveLength(0);
    await lagged.settlement.runDue(at('2031-01-01T11:10:00Z'));
    expect(await notes(l.id)).toHaveLength(1);
  });

  it('settles each period once when runs and new orders race, without deadlocks', async () => {
    const buyer = randomUUID();
    const seller = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', '500.00', `seed-${buyer}`);
    const t0 = at('2032-05-05T08:00:00Z');
    const leases = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        placeLease(kit, {
          buyerOrgId: buyer,
          sellerOrgId: seller,
          slots: 1 + (i % 3),
          startsAt: new Date(t0.getTime() + i * 7 * 60_000),
          hours: 2,
        }),
      ),
    );
    const now = at('2032-05-05T10:30:00Z');
    const runs = await Promise.all([
      kit.settlement.runDue(now),
      kit.settlement.runDue(now),
      kit.settlement.runDue(now),
      // A new order of the same buyer while settlement moves its money.
      placeLease(kit, { buyerOrgId: buyer, sellerOrgId: seller, startsAt: now, hours: 1 }),
    ]);
    const results = runs.slice(0, 3) as Awaited<ReturnType<typeof kit.settlement.runDue>>[];
    expect(results.flatMap((r) => r.failed)).toEqual([]);
    // Each lease: periods [start, 09:00), [09:00, 10:00) → 2 notes; leases starting after
    // 08:00 also have the last partial period up to start + 2 h, not complete before 11:00.
    const stored = await ds.query(
      `SELECT (SELECT count(*)::int FROM debit_notes WHERE lease_id = ANY($1)) AS n,
              (SELECT count(*)::int FROM ledger_transactions t, unnest($1::text[]) AS l(id)
               WHERE t.reference LIKE 'debit-note:' || l.id || ':%') AS txs`,
      [leases.map((l) => l.id)],
    );
    expect(stored[0].txs).toBe(12);
    expect(stored[0].n).toBe(12);
    await checkInvariants(kit);
  });

  it('keeps every invariant across random leases, usage, top-ups and run times (property)', async () => {
    const scenario = fc.record({
      leases: fc.array(
        fc.record({
          buyer: fc.integer({ min: 0, max: 1 }),
          slots: fc.integer({ min: 1, max: 4 }),
          slotPrice: fc.constantFrom('0.01', '0.05', '1.25', '7.77', '12.50'),
          unitPrice: fc.option(fc.constantFrom('0.003', '9.00', '1.11'), { nil: undefined }),
          startMinute: fc.integer({ min: 0, max: 179 }),
          hours: fc.integer({ min: 1, max: 4 }),
          usage: fc.array(fc.integer({ min: 0, max: 989_000 }), { minLength: 6, maxLength: 6 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      funds: fc.array(fc.constantFrom('5.00', '30.00', '200.00'), { minLength: 2, maxLength: 2 }),
      runs: fc.array(fc.integer({ min: 1, max: 9 * 60 }), { minLength: 1, maxLength: 6 }),
      topUpAt: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    });
    let year = 2040;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Each run gets its own year: earlier runs' leases are all ended by then.
        year += 1;
        const t0 = Date.UTC(year, 0, 1, 0, 0, 0);
        const buyers = [randomUUID(), randomUUID()];
        for (const [i, b] of buyers.entries())
          await kit.wallets.credit(b, 'CNY', s.funds[i], `seed-${b}`);
        const placed: LeaseEntity[] = [];
        for (const x of s.leases) {
          try {
            const l = await placeLease(kit, {
              buyerOrgId: buyers[x.buyer],
              slots: x.slots,
              prices: [
                { unit: 'slot_h', price: x.slotPrice },
                ...(x.unitPrice ? [{ unit: 'scu.ai' as const, price: x.unitPrice }] : []),
              ],
              startsAt: new Date(t0 + x.startMinute * 60_000 + 17_000),
              hours: x.hours,
            });
            placed.push(l);
            for (let h = 0; h < 6; h += 1) {
              const bucket = new Date(
                Math.floor(l.startsAt.getTime() / 3_600_000) * 3_600_000 + h * 3_600_000,
              );
              // At most what the slots can produce (0.989 scu.ai per H100 slot-hour).
              const q = Money.of(x.usage[h], 'CNY')
                .times(x.slots)
                .times('0.000001')
                .amount.toFixed();
              await recordUsage(ds, l.id, 'scu.ai', bucket, q);
            }
          } catch (e) {
            // An order the wallet cannot cover is refused: nothing was held.
            expect((e as DomainError).code).toBe('insufficient_funds');
          }
        }
        await checkInvariants(kit);
        const times = [...s.runs].sort((a, b) => a - b);
        for (const [i, minute] of times.entries()) {
          if (s.topUpAt === i)
            await kit.wallets.credit(buyers[0], 'CNY', '100.00', `top-${buyers[0]}`);
          const now = new Date(t0 + minute * 60_000);
          const r = await kit.settlement.runDue(now);
          expect(r.failed).toEqual([]);
          await checkInvariants(kit);
          const snap = await snapshot(ds);
          await kit.settlement.runDue(now);
          expect(await snapshot(ds)).toBe(snap);
        }
        // Long after: everything has ended and been invoiced, nothing is held.
        await kit.settlement.runDue(new Date(t0 + 24 * 3_600_000));
        await checkInvariants(kit);
        for (const p of placed) {
          const l = await lease(p.id);
          expect(l.state).toBe('ended');
          const inv = await ds.getRepository(InvoiceEntity).findOneByOrFail({ leaseId: p.id });
          const ns = await notes(p.id);
          const gross = Money.sum(
            ns.map((n) => Money.of(n.gross, 'CNY')),
            'CNY',
          );
          expect(Money.of(inv.subtotal, 'CNY').equals(gross)).toBe(true);
          expect(inv.debitNoteIds).toEqual(ns.map((n) => n.id));
          // Periods tile the lease's billed time without gaps or overlaps.
          for (let k = 1; k < ns.length; k += 1) {
            expect(ns[k].periodStart.getTime()).toBeGreaterThanOrEqual(
              ns[k - 1].periodEnd.getTime(),
            );
          }
        }
        for (const b of buyers) {
          const w = await wallet(b);
          expect(w.held).toBe('0.00');
        }
      }),
      { numRuns: 12 },
    );
  }, 300_000);
});
