import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { LeaseEntity, type PriceRow } from '../database/market.entities.js';
import { DebitNoteEntity, InvoiceEntity } from '../database/settlement.entities.js';
import {
  checkInvariants,
  openDataSource,
  placeLease,
  recordUsage,
  reportOnline,
  settlementKit,
  snapshot,
  type NewLease,
  type SettlementKit,
} from './testing/settlement-fixtures.js';

jest.setTimeout(120_000);

// The golden suite: every pricing model through the real hourly run (SettlementService.runDue,
// batched and per-lease paths as the run chooses them) and the final invoice. Every expected
// figure is computed by hand in the comments, never by the code under test. Take rate 5 %;
// fee = round_half_even(gross × 0.05) per debit note; amounts in CNY.
//
// The whole suite runs twice: with the database session in UTC, and in Asia/Kolkata (UTC+05:30,
// a zone whose hours do not start on UTC hours). Settlement's figures must not change.

const at = (iso: string): Date => new Date(iso);

/** Every settled period's note: [start hh:mm:ss, end, gross, fee, net, lines]. */
type NoteRow = [string, string, string, string, string, [string, string, string, string][]];

describe.each([['UTC'], ['Asia/Kolkata']])('golden settlement (session TimeZone %s)', (zone) => {
  let db: TestDatabase;
  let ds: DataSource;
  let kit: SettlementKit;

  beforeAll(async () => {
    db = await createTestDatabase({ timeZone: zone });
    ds = await openDataSource(db.url, 4);
    kit = settlementKit(ds);
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const notesOf = async (leaseId: string): Promise<NoteRow[]> =>
    (
      await ds.getRepository(DebitNoteEntity).find({
        where: { leaseId, kind: 'period' },
        order: { periodStart: 'ASC' },
      })
    ).map((n) => [
      n.periodStart.toISOString().slice(11, 19),
      n.periodEnd.toISOString().slice(11, 19),
      n.gross,
      n.fee,
      n.net,
      n.lines.map(
        (l) => [l.unit, l.quantity, l.unitPrice, l.amount] as [string, string, string, string],
      ),
    ]);
  const invoiceOf = (leaseId: string) =>
    ds.getRepository(InvoiceEntity).findOneByOrFail({ leaseId });
  const leaseOf = (id: string) => ds.getRepository(LeaseEntity).findOneByOrFail({ id });
  const wallet = async (org: string) => (await kit.wallets.view(org)).balances[0];
  const invoiceLines = (inv: InvoiceEntity) =>
    inv.lines.map((l) => [l.unit, l.quantity, l.unitPrice, l.amount]);

  /** A funded buyer and a lease on its wallet. */
  async function lease(o: Omit<NewLease, 'buyerOrgId'> & { funds?: string }) {
    const buyer = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', o.funds ?? '1000.00', `seed-${buyer}`);
    const l = await placeLease(kit, { ...o, buyerOrgId: buyer });
    return { buyer, lease: l };
  }

  /** Debit notes written by the batched path since the last call (every model settles there). */
  let batched = 0;
  const batchedSinceLast = () => {
    const n = batched;
    batched = 0;
    return n;
  };

  /** Runs the hourly settlement at each instant, as the scheduler would. */
  async function runAt(...instants: string[]) {
    const results = [];
    for (const i of instants) {
      const r = await kit.settlement.runDue(at(i));
      expect(r.failed).toEqual([]);
      batched += r.batched;
      results.push(r);
    }
    return results;
  }

  it('runs in the session time zone it was given', async () => {
    const [{ zone: shown }] = await ds.query('SELECT current_setting($1) AS zone', ['TimeZone']);
    expect(shown).toBe(zone);
  });

  it('fixed per slot-hour: partial first and last hours', async () => {
    // 2 slots at 12.50 per slot-hour, 10:20–12:20.
    const { buyer, lease: l } = await lease({
      slots: 2,
      prices: [{ unit: 'slot_h', price: '12.50' }],
      startsAt: at('2026-07-01T10:20:00Z'),
      hours: 2,
    });
    // Hold: 2 × 12.50 = 25.00.
    expect(await wallet(buyer)).toMatchObject({ available: '975.00', held: '25.00' });
    await runAt('2026-07-01T11:00:00Z', '2026-07-01T12:00:00Z', '2026-07-01T13:00:00Z');
    expect(batchedSinceLast()).toBe(3);
    expect(await notesOf(l.id)).toEqual([
      // 2 × 40/60 = 1.333… slot-h × 12.50 = 16.666… → 16.67; fee 0.8335 → 0.83
      [
        '10:20:00',
        '11:00:00',
        '16.670000000',
        '0.830000000',
        '15.840000000',
        [['slot_h', '1.333333333', '12.50', '16.67']],
      ],
      // 2 slot-h × 12.50 = 25.00; fee 1.25
      [
        '11:00:00',
        '12:00:00',
        '25.000000000',
        '1.250000000',
        '23.750000000',
        [['slot_h', '2', '12.50', '25.00']],
      ],
      // 2 × 20/60 = 0.666… × 12.50 = 8.333… → 8.33; fee 0.4165 → 0.42
      [
        '12:00:00',
        '12:20:00',
        '8.330000000',
        '0.420000000',
        '7.910000000',
        [['slot_h', '0.666666667', '12.50', '8.33']],
      ],
    ]);
    const inv = await invoiceOf(l.id);
    expect(invoiceLines(inv)).toEqual([['slot_h', '4', '12.50', '50.00']]);
    expect([inv.subtotal, inv.credits, inv.total, inv.fee]).toEqual([
      '50.000000000',
      '0.000000000',
      '50.000000000',
      '2.500000000',
    ]);
    expect(await wallet(buyer)).toMatchObject({ available: '950.00', held: '0.00' });
    await checkInvariants(kit);
  });

  it('fixed per unit: metered scu.ai, half-even lines and fees', async () => {
    // 1 slot on one H100 (0.989 scu.ai per slot-hour at most), 9.005 per scu.ai, 10:00–12:00.
    const { buyer, lease: l } = await lease({
      prices: [{ unit: 'scu.ai', price: '9.005' }],
      startsAt: at('2026-07-02T10:00:00Z'),
      hours: 2,
    });
    // Hold: 0.989 × 9.005 = 8.905945 → 8.91 (rounded up).
    expect(await wallet(buyer)).toMatchObject({ available: '991.09', held: '8.91' });
    await recordUsage(ds, l.id, 'scu.ai', at('2026-07-02T10:00:00Z'), '0.9');
    await recordUsage(ds, l.id, 'scu.ai', at('2026-07-02T11:00:00Z'), '0.5');
    await runAt('2026-07-02T11:00:00Z', '2026-07-02T12:00:00Z');
    expect(batchedSinceLast()).toBe(2);
    expect(await notesOf(l.id)).toEqual([
      // 0.9 × 9.005 = 8.1045 → 8.10; fee 0.405 → 0.40 (half-even, 0 is even)
      [
        '10:00:00',
        '11:00:00',
        '8.100000000',
        '0.400000000',
        '7.700000000',
        [['scu.ai', '0.9', '9.005', '8.10']],
      ],
      // 0.5 × 9.005 = 4.5025 → 4.50; fee 0.225 → 0.22 (half-even, 2 is even)
      [
        '11:00:00',
        '12:00:00',
        '4.500000000',
        '0.220000000',
        '4.280000000',
        [['scu.ai', '0.5', '9.005', '4.50']],
      ],
    ]);
    const inv = await invoiceOf(l.id);
    expect(invoiceLines(inv)).toEqual([['scu.ai', '1.4', '9.005', '12.60']]);
    expect([inv.subtotal, inv.credits, inv.total, inv.fee]).toEqual([
      '12.600000000',
      '0.000000000',
      '12.600000000',
      '0.620000000',
    ]);
    expect(await wallet(buyer)).toMatchObject({ available: '987.40', held: '0.00' });
    await checkInvariants(kit);
  });

  it('tiered by units: the cumulative scu.ai crosses a tier (UTC usage buckets)', async () => {
    // First 1 scu.ai at 9.00, the rest at 8.00; 10:00–13:00; usage 0.6, 0.7, 0.5.
    const tiered: PriceRow = {
      unit: 'scu.ai',
      price: '9.00',
      model: 'tiered',
      tiers: [
        { upTo: '1', price: '9.00' },
        { upTo: null, price: '8.00' },
      ],
    };
    const { buyer, lease: l } = await lease({
      prices: [tiered],
      startsAt: at('2026-07-03T10:00:00Z'),
      hours: 3,
    });
    // Hold at the highest tier price: 0.989 × 9.00 = 8.901 → 8.91.
    expect(await wallet(buyer)).toMatchObject({ held: '8.91' });
    await recordUsage(ds, l.id, 'scu.ai', at('2026-07-03T10:00:00Z'), '0.6');
    await recordUsage(ds, l.id, 'scu.ai', at('2026-07-03T11:00:00Z'), '0.7');
    await recordUsage(ds, l.id, 'scu.ai', at('2026-07-03T12:00:00Z'), '0.5');
    await runAt('2026-07-03T11:00:00Z', '2026-07-03T12:00:00Z', '2026-07-03T13:00:00Z');
    expect(batchedSinceLast()).toBe(3);
    expect(await notesOf(l.id)).toEqual([
      // prior 0: 0.6 × 9.00 = 5.40; fee 0.27
      [
        '10:00:00',
        '11:00:00',
        '5.400000000',
        '0.270000000',
        '5.130000000',
        [['scu.ai', '0.6', '9.00', '5.40']],
      ],
      // prior 0.6, to 1.3: 0.4 × 9.00 = 3.60 and 0.3 × 8.00 = 2.40; gross 6.00, fee 0.30
      [
        '11:00:00',
        '12:00:00',
        '6.000000000',
        '0.300000000',
        '5.700000000',
        [
          ['scu.ai', '0.4', '9.00', '3.60'],
          ['scu.ai', '0.3', '8.00', '2.40'],
        ],
      ],
      // prior 1.3: 0.5 × 8.00 = 4.00; fee 0.20
      [
        '12:00:00',
        '13:00:00',
        '4.000000000',
        '0.200000000',
        '3.800000000',
        [['scu.ai', '0.5', '8.00', '4.00']],
      ],
    ]);
    const inv = await invoiceOf(l.id);
    expect(invoiceLines(inv)).toEqual([
      ['scu.ai', '1', '9.00', '9.00'],
      ['scu.ai', '0.8', '8.00', '6.40'],
    ]);
    expect([inv.subtotal, inv.total, inv.fee]).toEqual([
      '15.400000000',
      '15.400000000',
      '0.770000000',
    ]);
    expect(await wallet(buyer)).toMatchObject({ available: '984.60', held: '0.00' });
    await checkInvariants(kit);
  });

  it('tiered by slot-hours: a crossing at a third of an hour is exact (no cent off)', async () => {
    // 1 slot, the first slot-hour at 13.545, the rest at 12.00; 10:20–12:20.
    const { buyer, lease: l } = await lease({
      prices: [
        {
          unit: 'slot_h',
          price: '13.545',
          model: 'tiered',
          tiers: [
            { upTo: '1', price: '13.545' },
            { upTo: null, price: '12.00' },
          ],
        },
      ],
      startsAt: at('2026-07-04T10:20:00Z'),
      hours: 2,
    });
    // Hold: 1 × 13.545 → 13.55 (rounded up).
    expect(await wallet(buyer)).toMatchObject({ held: '13.55' });
    await runAt('2026-07-04T11:00:00Z', '2026-07-04T12:00:00Z', '2026-07-04T13:00:00Z');
    expect(batchedSinceLast()).toBe(3);
    expect(await notesOf(l.id)).toEqual([
      // 2/3 × 13.545 = 9.03 exactly; fee 0.4515 → 0.45
      [
        '10:20:00',
        '11:00:00',
        '9.030000000',
        '0.450000000',
        '8.580000000',
        [['slot_h', '0.666666667', '13.545', '9.03']],
      ],
      // prior 2/3: 1/3 × 13.545 = 4.515 → 4.52 (half-even: 1 is odd); 2/3 × 12.00 = 8.00.
      // gross 12.52, fee 0.626 → 0.63
      [
        '11:00:00',
        '12:00:00',
        '12.520000000',
        '0.630000000',
        '11.890000000',
        [
          ['slot_h', '0.333333333', '13.545', '4.52'],
          ['slot_h', '0.666666667', '12.00', '8.00'],
        ],
      ],
      // prior 5/3: 1/3 × 12.00 = 4.00; fee 0.20
      [
        '12:00:00',
        '12:20:00',
        '4.000000000',
        '0.200000000',
        '3.800000000',
        [['slot_h', '0.333333333', '12.00', '4.00']],
      ],
    ]);
    const inv = await invoiceOf(l.id);
    expect(invoiceLines(inv)).toEqual([
      ['slot_h', '1', '13.545', '13.55'],
      ['slot_h', '1', '12.00', '12.00'],
    ]);
    expect([inv.subtotal, inv.total, inv.fee]).toEqual([
      '25.550000000',
      '25.550000000',
      '1.280000000',
    ]);
    expect(await wallet(buyer)).toMatchObject({ available: '974.45', held: '0.00' });
    await checkInvariants(kit);
  });

  it('tiered by slot-hours: a period ending exactly on a tier bound has no zero-quantity line', async () => {
    // 1 slot, the first slot-hour at 10.00, the rest at 8.00; 10:20–11:20: the cumulative
    // quantity reaches exactly 1 at the end of the second period.
    const { lease: l } = await lease({
      prices: [
        {
          unit: 'slot_h',
          price: '10.00',
          model: 'tiered',
          tiers: [
            { upTo: '1', price: '10.00' },
            { upTo: null, price: '8.00' },
          ],
        },
      ],
      startsAt: at('2026-07-05T10:20:00Z'),
      hours: 1,
    });
    await runAt('2026-07-05T11:00:00Z', '2026-07-05T12:00:00Z');
    expect(batchedSinceLast()).toBe(2);
    expect(await notesOf(l.id)).toEqual([
      // 2/3 × 10.00 = 6.666… → 6.67; fee 0.3335 → 0.33
      [
        '10:20:00',
        '11:00:00',
        '6.670000000',
        '0.330000000',
        '6.340000000',
        [['slot_h', '0.666666667', '10.00', '6.67']],
      ],
      // 1/3 × 10.00 = 3.333… → 3.33; fee 0.1665 → 0.17; nothing in the second tier
      [
        '11:00:00',
        '11:20:00',
        '3.330000000',
        '0.170000000',
        '3.160000000',
        [['slot_h', '0.333333333', '10.00', '3.33']],
      ],
    ]);
    const inv = await invoiceOf(l.id);
    expect(invoiceLines(inv)).toEqual([['slot_h', '1', '10.00', '10.00']]);
    await checkInvariants(kit);
  });

  it('reserved: the prepaid block first, then on-demand use beyond it, every hour settled', async () => {
    // 1 slot; a block of 2 slot-hours at 10.00, on demand 12.00; 10:00–13:00.
    const { buyer, lease: l } = await lease({
      prices: [
        {
          unit: 'slot_h',
          price: '12.00',
          model: 'reserved',
          reserved: { quantity: '2', price: '10.00' },
        },
      ],
      startsAt: at('2026-07-06T10:00:00Z'),
      hours: 3,
    });
    // Block: 2 × 10.00 = 20.00 paid at once; hold at the on-demand price 12.00.
    expect(await wallet(buyer)).toMatchObject({ available: '968.00', held: '12.00' });
    await runAt('2026-07-06T11:00:00Z', '2026-07-06T12:00:00Z', '2026-07-06T13:00:00Z');
    expect(batchedSinceLast()).toBe(3);
    expect(await notesOf(l.id)).toEqual([
      // 1 slot-h from the block (2 left): 0.00
      [
        '10:00:00',
        '11:00:00',
        '0.000000000',
        '0.000000000',
        '0.000000000',
        [['slot_h', '1', '0', '0.00']],
      ],
      // 1 slot-h from the block (1 left): 0.00
      [
        '11:00:00',
        '12:00:00',
        '0.000000000',
        '0.000000000',
        '0.000000000',
        [['slot_h', '1', '0', '0.00']],
      ],
      // the block is used up: 1 × 12.00 = 12.00; fee 0.60
      [
        '12:00:00',
        '13:00:00',
        '12.000000000',
        '0.600000000',
        '11.400000000',
        [['slot_h', '1', '12.00', '12.00']],
      ],
    ]);
    expect((await leaseOf(l.id)).state).toBe('ended');
    const inv = await invoiceOf(l.id);
    expect(invoiceLines(inv)).toEqual([
      ['slot_h', '2', '10.00', '20.00'], // the block's own note (fee 1.00)
      ['slot_h', '2', '0', '0.00'],
      ['slot_h', '1', '12.00', '12.00'],
    ]);
    expect([inv.subtotal, inv.credits, inv.total, inv.fee]).toEqual([
      '32.000000000',
      '0.000000000',
      '32.000000000',
      '1.600000000',
    ]);
    expect(await wallet(buyer)).toMatchObject({ available: '968.00', held: '0.00' });
    await checkInvariants(kit);
  });

  it('interruptible: paused time is neither billed nor counted for the SLA', async () => {
    // One slot of capacity. A bids 5.00 from 10:00 for 2 h; B outbids it at 10:30:00.400 and
    // cancels at 10:45:00.700, when A resumes. The resource is online only while A runs.
    const offerId = randomUUID();
    const interruptible = (bid: string): PriceRow[] => [
      { unit: 'slot_h', price: bid, model: 'interruptible' },
    ];
    const a = await lease({
      offerId,
      bid: '5.00',
      prices: interruptible('5.00'),
      startsAt: at('2026-07-07T10:00:00Z'),
      hours: 2,
      online: false,
    });
    const b = await lease({
      offerId,
      bid: '6.00',
      prices: interruptible('6.00'),
      startsAt: at('2026-07-07T10:30:00Z'),
      hours: 1,
      online: false,
    });
    // The bids share A's resource (one slot, no other offer on it): the offer's slot decides.
    const capacity = { id: offerId, capacity: 1, resourceId: a.lease.resourceId };
    await ds.transaction((m) =>
      kit.bids.reschedule(m, capacity, at('2026-07-07T10:30:00.400Z'), {
        kind: 'order',
        leaseId: b.lease.id,
        bid: '6.00',
      }),
    );
    await ds.query(
      `UPDATE leases SET state = 'ended', ended_at = $2, end_reason = 'cancelled_by_buyer' WHERE id = $1`,
      [b.lease.id, at('2026-07-07T10:45:00Z')],
    );
    await ds.transaction((m) =>
      kit.bids.reschedule(m, capacity, at('2026-07-07T10:45:00.700Z'), {
        kind: 'lease_ended',
        leaseId: b.lease.id,
      }),
    );
    const [pause] = await kit.bids.history(ds.manager, a.lease.id);
    // Pauses are recorded in whole seconds.
    expect([pause.pausedAt.toISOString(), pause.resumedAt?.toISOString()]).toEqual([
      '2026-07-07T10:30:00.000Z',
      '2026-07-07T10:45:00.000Z',
    ]);
    await reportOnline(
      ds,
      a.lease.resourceId,
      at('2026-07-07T10:00:00Z'),
      at('2026-07-07T10:30:00Z'),
    );
    await reportOnline(
      ds,
      a.lease.resourceId,
      at('2026-07-07T10:45:00Z'),
      at('2026-07-07T12:00:00Z'),
    );
    await reportOnline(
      ds,
      b.lease.resourceId,
      at('2026-07-07T10:30:00Z'),
      at('2026-07-07T10:45:00Z'),
    );
    await runAt('2026-07-07T11:00:00Z', '2026-07-07T12:00:00Z');
    // A's two hours in the batch; B, cancelled, per lease.
    expect(batchedSinceLast()).toBe(2);
    expect(await notesOf(a.lease.id)).toEqual([
      // ran 45 of 60 minutes: 0.75 × 5.00 = 3.75; fee 0.1875 → 0.19
      [
        '10:00:00',
        '11:00:00',
        '3.750000000',
        '0.190000000',
        '3.560000000',
        [['slot_h', '0.75', '5.00', '3.75']],
      ],
      // 1 × 5.00; fee 0.25
      [
        '11:00:00',
        '12:00:00',
        '5.000000000',
        '0.250000000',
        '4.750000000',
        [['slot_h', '1', '5.00', '5.00']],
      ],
    ]);
    expect(await notesOf(b.lease.id)).toEqual([
      // 10:30–10:45: 0.25 × 6.00 = 1.50; fee 0.075 → 0.08 (half-even, 7 is odd)
      [
        '10:30:00',
        '10:45:00',
        '1.500000000',
        '0.080000000',
        '1.420000000',
        [['slot_h', '0.25', '6.00', '1.50']],
      ],
    ]);
    const inv = await invoiceOf(a.lease.id);
    // Active minutes: 120 − 15 paused = 105, all online: 100 %, no credit.
    expect(inv.sla).toMatchObject({
      activeMinutes: 105,
      availableMinutes: 105,
      creditPercent: '0',
    });
    expect([inv.subtotal, inv.credits, inv.total, inv.fee]).toEqual([
      '8.750000000',
      '0.000000000',
      '8.750000000',
      '0.440000000',
    ]);
    expect(await wallet(a.buyer)).toMatchObject({ available: '991.25', held: '0.00' });
    expect(await wallet(b.buyer)).toMatchObject({ available: '998.50', held: '0.00' });
    await checkInvariants(kit);
  });

  it('suspension and resume: a dry wallet suspends at the hour, a top-up resumes from the whole second', async () => {
    // 1 slot at 10.00, 10:00–14:00; the wallet has 25.00.
    const { buyer, lease: l } = await lease({
      prices: [{ unit: 'slot_h', price: '10.00' }],
      startsAt: at('2026-07-08T10:00:00Z'),
      hours: 4,
      funds: '25.00',
    });
    expect(await wallet(buyer)).toMatchObject({ available: '15.00', held: '10.00' });
    const [r1, r2] = await runAt('2026-07-08T11:00:00Z', '2026-07-08T12:00:00Z');
    // 11:00: 10.00 paid from the hold, the next 10.00 held (available 5.00).
    expect(r1).toMatchObject({ debitNotes: 1, suspended: 0 });
    // 12:00: 10.00 paid; the next hold (10.00) is more than the 5.00 available: suspended.
    expect(r2).toMatchObject({ debitNotes: 1, suspended: 1 });
    expect(await leaseOf(l.id)).toMatchObject({ state: 'suspended' });
    expect(await wallet(buyer)).toMatchObject({ available: '5.00', held: '0.00' });
    // Top-up at 12:05; the run at 12:10:30.250 resumes it from 12:10:30 (within the 15 min grace).
    await kit.wallets.credit(buyer, 'CNY', '20.00', `top-up-${buyer}`);
    const [r3] = await runAt('2026-07-08T12:10:30.250Z');
    expect(r3).toMatchObject({ resumed: 1 });
    const resumed = await leaseOf(l.id);
    expect([resumed.state, resumed.settledUntil.toISOString()]).toEqual([
      'active',
      '2026-07-08T12:10:30.000Z',
    ]);
    expect(await wallet(buyer)).toMatchObject({ available: '15.00', held: '10.00' });
    await runAt('2026-07-08T13:00:00Z', '2026-07-08T14:00:00Z');
    // Batched but the hour that suspended it (the per-lease step suspends).
    expect(batchedSinceLast()).toBe(3);
    expect(await notesOf(l.id)).toEqual([
      [
        '10:00:00',
        '11:00:00',
        '10.000000000',
        '0.500000000',
        '9.500000000',
        [['slot_h', '1', '10.00', '10.00']],
      ],
      [
        '11:00:00',
        '12:00:00',
        '10.000000000',
        '0.500000000',
        '9.500000000',
        [['slot_h', '1', '10.00', '10.00']],
      ],
      // suspended 12:00–12:10:30 (not billed); 49.5 min = 0.825 slot-h × 10.00 = 8.25; fee
      // 0.4125 → 0.41
      [
        '12:10:30',
        '13:00:00',
        '8.250000000',
        '0.410000000',
        '7.840000000',
        [['slot_h', '0.825', '10.00', '8.25']],
      ],
      [
        '13:00:00',
        '14:00:00',
        '10.000000000',
        '0.500000000',
        '9.500000000',
        [['slot_h', '1', '10.00', '10.00']],
      ],
    ]);
    const inv = await invoiceOf(l.id);
    // Active minutes: 10:00–12:00 (120) and 12:10–14:00 (110, 12:10 partly): 230.
    expect(inv.sla).toMatchObject({ activeMinutes: 230, availableMinutes: 230 });
    expect([inv.subtotal, inv.credits, inv.total]).toEqual([
      '38.250000000',
      '0.000000000',
      '38.250000000',
    ]);
    // Paid 25.00 + 20.00 − 38.25 = 6.75 left.
    expect(await wallet(buyer)).toMatchObject({ available: '6.75', held: '0.00' });
    expect(await leaseOf(l.id)).toMatchObject({ state: 'ended', endReason: 'completed' });
    await checkInvariants(kit);
  });

  it('SLA credits: the default schedule and a pinned one, half-even shares', async () => {
    // 1 slot at 10.05, 10:00–12:00, online 10:00–11:58: availability 118/120 = 98.33 %.
    const outage = async (sla?: NewLease['sla']) => {
      const r = await lease({
        prices: [{ unit: 'slot_h', price: '10.05' }],
        startsAt: at('2026-07-09T10:00:00Z'),
        hours: 2,
        online: false,
        sla,
      });
      await reportOnline(
        ds,
        r.lease.resourceId,
        at('2026-07-09T10:00:00Z'),
        at('2026-07-09T11:58:00Z'),
      );
      return r;
    };
    const byDefault = await outage();
    const pinned = await outage({
      target: '99.9',
      schedule: [
        { below: '99.9', credit: '5' },
        { below: '99', credit: '30' },
      ],
    });
    await runAt('2026-07-09T11:00:00Z', '2026-07-09T12:00:00Z');
    expect(batchedSinceLast()).toBe(4);
    // Notes: 10.05 each; fee 0.5025 → 0.50; net 9.55. Σ net 19.10, Σ fee 1.00.
    for (const { lease: l } of [byDefault, pinned]) {
      expect((await notesOf(l.id)).map((n) => n.slice(2, 5))).toEqual([
        ['10.050000000', '0.500000000', '9.550000000'],
        ['10.050000000', '0.500000000', '9.550000000'],
      ]);
    }
    // Default: 98.33 % < 99 → 25 %: seller 19.10 × 0.25 = 4.775 → 4.78, platform 0.25; 5.03.
    const d = await invoiceOf(byDefault.lease.id);
    expect(d.sla).toMatchObject({
      activeMinutes: 120,
      availableMinutes: 118,
      creditPercent: '25',
      sellerShare: '4.78',
      platformShare: '0.25',
    });
    expect([d.subtotal, d.credits, d.total]).toEqual([
      '20.100000000',
      '5.030000000',
      '15.070000000',
    ]);
    expect(await wallet(byDefault.buyer)).toMatchObject({ available: '984.93', held: '0.00' });
    // Pinned: 98.33 % < 99 → 30 %: seller 19.10 × 0.30 = 5.73, platform 0.30; 6.03.
    const p = await invoiceOf(pinned.lease.id);
    expect(p.sla).toMatchObject({
      creditPercent: '30',
      sellerShare: '5.73',
      platformShare: '0.30',
    });
    expect([p.subtotal, p.credits, p.total]).toEqual([
      '20.100000000',
      '6.030000000',
      '14.070000000',
    ]);
    expect(await wallet(pinned.buyer)).toMatchObject({ available: '985.93', held: '0.00' });
    await checkInvariants(kit);
  });

  it('running everything again changes nothing', async () => {
    const before = await snapshot(ds);
    await runAt('2026-07-10T00:00:00Z');
    expect(await snapshot(ds)).toBe(before);
  });
});
