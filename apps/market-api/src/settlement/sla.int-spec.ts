import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { Decimal, Money } from '@suanli/money';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { InvoiceEntity } from '../database/settlement.entities.js';
import {
  checkInvariants,
  openDataSource,
  placeLease,
  reportOnline,
  settlementKit,
  snapshot,
  type SettlementKit,
} from './testing/settlement-fixtures.js';

// Many HTTP round trips (and PDF rendering) on a shared, loaded machine.
jest.setTimeout(60_000);

// Golden SLA outcomes, computed by hand in the comments (not by the code under test).

let db: TestDatabase;
let ds: DataSource;
let kit: SettlementKit;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await openDataSource(db.url, 4);
  kit = settlementKit(ds);
}, 60_000);

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

const at = (iso: string): Date => new Date(iso);

/** A 2-hour lease at 10.05/slot-h from 10:00, heartbeats online 10:00–11:58 (118 minutes). */
async function leaseWithOutage(sla?: {
  target: string;
  schedule: { below: string; credit: string }[];
}) {
  const buyer = randomUUID();
  await kit.wallets.credit(buyer, 'CNY', '100.00', `seed-${buyer}`);
  const l = await placeLease(kit, {
    buyerOrgId: buyer,
    prices: [{ unit: 'slot_h', price: '10.05' }],
    startsAt: at('2026-04-01T10:00:00Z'),
    hours: 2,
    online: false,
    sla,
  });
  await reportOnline(ds, l.resourceId, at('2026-04-01T10:00:00Z'), at('2026-04-01T11:58:00Z'));
  // An offline beat never counts.
  await reportOnline(
    ds,
    l.resourceId,
    at('2026-04-01T11:59:00Z'),
    at('2026-04-01T12:00:00Z'),
    'offline',
  );
  return { buyer, lease: l };
}

const invoiceOf = (leaseId: string) => ds.getRepository(InvoiceEntity).findOneByOrFail({ leaseId });

describe('SLA credits at the final invoice', () => {
  it('credits 25 % below 99 % with half-even shares (x.xx5) and posts them through sla_credits', async () => {
    const { buyer, lease } = await leaseWithOutage();
    const r = await kit.settlement.runDue(at('2026-04-01T12:00:00Z'));
    expect(r).toMatchObject({ debitNotes: 2, ended: 1, invoices: 1, failed: [] });
    // Notes: 10.05 each; fee round(10.05 × 0.05 = 0.5025) = 0.50; net 9.55. Σ net 19.10, Σ fee 1.00.
    // Availability 118 / 120 = 98.3333 % < 99 → 25 %. Seller 19.10 × 0.25 = 4.775 → 4.78 (half-even,
    // 7 is odd); platform 1.00 × 0.25 = 0.25; credit 5.03; total 20.10 − 5.03 = 15.07.
    const inv = await invoiceOf(lease.id);
    expect([inv.subtotal, inv.credits, inv.total, inv.fee]).toEqual([
      '20.100000000',
      '5.030000000',
      '15.070000000',
      '1.000000000',
    ]);
    expect(inv.sla).toEqual({
      availability: '98.3333',
      activeMinutes: 120,
      availableMinutes: 118,
      target: '99.5',
      creditPercent: '25',
      sellerShare: '4.78',
      platformShare: '0.25',
    });
    // 100.00 − 20.10 + 5.03 = 84.93, nothing held.
    expect((await kit.wallets.view(buyer)).balances[0]).toEqual({
      currency: 'CNY',
      available: '84.93',
      held: '0.00',
      total: '84.93',
    });
    // Seller: 19.10 − 4.78 = 14.32; platform: 1.00 − 0.25 = 0.75 (of this lease).
    expect(
      await kit.ledger.balanceOf(ds.manager, {
        ownerKey: lease.sellerOrgId,
        kind: 'seller_payable',
        currency: 'CNY',
      }),
    ).toBe('14.32');
    await checkInvariants(kit);
    const before = await snapshot(ds);
    await kit.settlement.runDue(at('2026-04-01T13:00:00Z'));
    expect(await snapshot(ds)).toBe(before);
  });

  it('counts a minute with usage as available (10 % below the 99.5 % target)', async () => {
    const { lease } = await leaseWithOutage();
    await ds.query(`INSERT INTO usage_minutes (lease_id, bucket, scu_ai) VALUES ($1, $2, 0.5)`, [
      lease.id,
      at('2026-04-01T11:58:00Z'),
    ]);
    await kit.settlement.runDue(at('2026-04-01T12:00:00Z'));
    // 119 / 120 = 99.1667 % < 99.5 → 10 %: seller 19.10 × 0.1 = 1.91, platform 0.10 → 2.01.
    const inv = await invoiceOf(lease.id);
    expect(inv.sla).toMatchObject({
      availableMinutes: 119,
      availability: '99.1667',
      creditPercent: '10',
    });
    expect([inv.credits, inv.total]).toEqual(['2.010000000', '18.090000000']);
    await checkInvariants(kit);
  });

  it('uses the schedule pinned at order time', async () => {
    const { lease } = await leaseWithOutage({
      target: '99.9',
      schedule: [{ below: '99.9', credit: '50' }],
    });
    await kit.settlement.runDue(at('2026-04-01T12:00:00Z'));
    // 98.3333 % < 99.9 → 50 %: seller 19.10 × 0.5 = 9.55, platform 0.50 → 10.05.
    const inv = await invoiceOf(lease.id);
    expect(inv.sla).toMatchObject({ target: '99.9', creditPercent: '50', sellerShare: '9.55' });
    expect([inv.credits, inv.total]).toEqual(['10.050000000', '10.050000000']);
    await checkInvariants(kit);
  });

  it('credits nothing when the resource was online every minute', async () => {
    const buyer = randomUUID();
    await kit.wallets.credit(buyer, 'CNY', '100.00', `seed-${buyer}`);
    const l = await placeLease(kit, {
      buyerOrgId: buyer,
      prices: [{ unit: 'slot_h', price: '10.05' }],
      startsAt: at('2026-04-01T10:00:00Z'),
      hours: 2,
    });
    await kit.settlement.runDue(at('2026-04-01T12:00:00Z'));
    const inv = await invoiceOf(l.id);
    expect(inv.sla).toMatchObject({ availability: '100', creditPercent: '0' });
    expect(inv.credits).toBe('0.000000000');
    await checkInvariants(kit);
  });

  it('keeps buyer paid − credits = seller after credits + fees after credits for any outage and schedule (property)', async () => {
    let day = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          cents: fc.integer({ min: 1, max: 99_999 }),
          takeRate: fc.constantFrom('0.05', '0.03', '0.075'),
          slots: fc.integer({ min: 1, max: 3 }),
          online: fc.integer({ min: 0, max: 120 }),
          pinned: fc.option(
            fc.record({
              target: fc.constantFrom('99.9', '99', '90'),
              credit: fc.constantFrom('5', '33', '50', '100'),
            }),
          ),
        }),
        async (x) => {
          day += 1;
          const startsAt = new Date(Date.UTC(2027, 0, day, 6, 0, 0));
          const price = new Decimal(x.cents).div(100).toFixed(2);
          const buyer = randomUUID();
          await kit.wallets.credit(buyer, 'CNY', '100000.00', `seed-${buyer}`);
          const sla = x.pinned
            ? {
                target: x.pinned.target,
                schedule: [{ below: x.pinned.target, credit: x.pinned.credit }],
              }
            : undefined;
          const l = await placeLease(kit, {
            buyerOrgId: buyer,
            slots: x.slots,
            prices: [{ unit: 'slot_h', price }],
            startsAt,
            hours: 2,
            online: false,
            takeRate: x.takeRate,
            sla,
          });
          if (x.online > 0) {
            await reportOnline(
              ds,
              l.resourceId,
              startsAt,
              new Date(startsAt.getTime() + x.online * 60_000),
            );
          }
          await kit.settlement.runDue(new Date(startsAt.getTime() + 2 * 3_600_000));
          // Independent expectation: two equal hourly notes.
          const gross = Money.of(new Decimal(price).times(x.slots), 'CNY').roundHalfEven();
          const fee = gross.times(x.takeRate).roundHalfEven();
          const net = gross.minus(fee);
          const below = (pct: string) =>
            new Decimal(x.online).times(100).lt(new Decimal(pct).times(120));
          let p = new Decimal(0);
          if (sla) {
            if (below(sla.target)) p = new Decimal(sla.schedule[0].credit);
          } else if (below('95')) p = new Decimal(100);
          else if (below('99')) p = new Decimal(25);
          else if (below('99.5')) p = new Decimal(10);
          const seller = net.times(2).times(p.div(100)).roundHalfEven();
          const platform = fee.times(2).times(p.div(100)).roundHalfEven();
          const inv = await invoiceOf(l.id);
          expect(Money.of(inv.credits, 'CNY').toString()).toBe(seller.plus(platform).toString());
          expect(Money.of(inv.total, 'CNY').toString()).toBe(
            gross.times(2).minus(seller).minus(platform).toString(),
          );
          expect(inv.sla).toMatchObject({
            activeMinutes: 120,
            availableMinutes: x.online,
            creditPercent: p.toFixed(),
            sellerShare: seller.toString(),
            platformShare: platform.toString(),
          });
          await checkInvariants(kit);
        },
      ),
      { numRuns: 8 },
    );
  });
});
