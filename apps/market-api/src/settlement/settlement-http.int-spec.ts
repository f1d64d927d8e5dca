import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  DebitNoteView,
  InvoiceView,
  LeaseView,
  OrderView,
  Page,
  WalletView,
} from '@suanli/contracts';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import type { TrialBalance } from '../ledger/ledger.service.js';
import { pdfText } from './testing/pdf-text.js';
import { SettlementScheduler } from './settlement.scheduler.js';
import { reportOnline } from './testing/settlement-fixtures.js';
import { DataSource } from 'typeorm';

// Many HTTP round trips (and PDF rendering) on a shared, loaded machine.
jest.setTimeout(60_000);

const HOUR = 3_600_000;
const MINUTE = 60_000;
let api: TestMarketApi;

beforeAll(async () => {
  api = await startMarketApi();
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('wallet, settlement and invoices over HTTP', () => {
  it('funds, holds, settles, invoices and shows each party only what is theirs', async () => {
    const operator = apiClient(api.url, await api.operatorToken());
    const { seller, offer } = await sellerWithOffer(api, {
      prices: [{ unit: 'slot_h', price: '10.00' }],
    });
    const buyer = await signUpActor(api, ['buyer']);
    const stranger = await signUpActor(api, ['buyer', 'seller']);

    // Test-mode top-up: idempotent, a retry returns the first answer and credits once.
    const key = randomUUID();
    const body = { currency: 'CNY', amount: '100.00', memo: 'seed' };
    const first = await operator.postIdempotent<{ transactionId: string; wallet: WalletView }>(
      `/v1/admin/wallets/${buyer.orgId}/credits`,
      body,
      key,
    );
    expect(first.status).toBe(201);
    const retry = await operator.postIdempotent<{ transactionId: string }>(
      `/v1/admin/wallets/${buyer.orgId}/credits`,
      body,
      key,
    );
    expect(retry.body.transactionId).toBe(first.body.transactionId);
    const noKey = await operator.post(`/v1/admin/wallets/${buyer.orgId}/credits`, body);
    expect(noKey.status).toBe(400);
    const bad = await operator.postIdempotent(`/v1/admin/wallets/${buyer.orgId}/credits`, {
      currency: 'CNY',
      amount: '-5',
    });
    expect(bad.status).toBe(400);
    // Only operators fund wallets.
    const self = await buyer.client.postIdempotent(
      `/v1/admin/wallets/${buyer.orgId}/credits`,
      body,
    );
    expect(self.status).toBe(403);
    await fundWallet(api, buyer.orgId, 'CNY', '0.50');

    const w0 = await buyer.client.get<WalletView>('/v1/wallet');
    expect(w0.body.balances).toEqual([
      { currency: 'CNY', available: '100.50', held: '0.00', total: '100.50' },
    ]);

    // The clock sits on a whole hour: a 2-hour order holds one hour (1 slot × 10.00).
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 2,
    });
    expect(order.status).toBe(201);
    const leaseId = order.body.lease.id;
    // The resource reports online every minute of the lease: no SLA credit.
    const ds = api.app.get(DataSource);
    const [{ resource_id: resourceId }] = (await ds.query(
      'SELECT resource_id FROM leases WHERE id = $1',
      [leaseId],
    )) as { resource_id: string }[];
    await reportOnline(
      ds,
      resourceId,
      api.clock.now(),
      new Date(api.clock.now().getTime() + 2 * HOUR),
    );
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '90.50',
      held: '10.00',
    });

    api.clock.advance(HOUR);
    const run = await operator.post<{ debitNotes: number }>('/v1/admin/settlement/run', {});
    expect(run.status).toBe(200);
    expect(run.body.debitNotes).toBe(1);
    expect(
      (await operator.post<{ debitNotes: number }>('/v1/admin/settlement/run', {})).body.debitNotes,
    ).toBe(0);
    expect((await buyer.client.post('/v1/admin/settlement/run', {})).status).toBe(403);

    const notes = await seller.client.get<Page<DebitNoteView>>(`/v1/leases/${leaseId}/debit-notes`);
    expect(notes.status).toBe(200);
    expect(notes.body.items.map((n) => [n.gross, n.fee, n.net])).toEqual([
      ['10.00', '0.50', '9.50'],
    ]);
    expect((await stranger.client.get(`/v1/leases/${leaseId}/debit-notes`)).status).toBe(404);

    api.clock.advance(HOUR);
    await operator.post('/v1/admin/settlement/run', {});
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toEqual({
      currency: 'CNY',
      available: '80.50',
      held: '0.00',
      total: '80.50',
    });

    const mine = await buyer.client.get<Page<InvoiceView>>('/v1/invoices');
    expect(mine.body.items).toHaveLength(1);
    const inv = mine.body.items[0];
    expect(inv).toMatchObject({
      leaseId,
      buyerOrgId: buyer.orgId,
      currency: 'CNY',
      subtotal: '20.00',
      credits: '0.00',
      total: '20.00',
    });
    expect(inv.number).toMatch(/^INV-\d{4}-\d{6}$/);
    expect(inv.debitNotes).toHaveLength(2);

    // Downloads: CSV and a real PDF, read back with PDF.js.
    const download = async (path: string, token: string) => {
      const r = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return {
        status: r.status,
        type: r.headers.get('content-type') ?? '',
        headers: r.headers,
        bytes: new Uint8Array(await r.arrayBuffer()),
      };
    };
    const csv = await download(`/v1/invoices/${inv.id}.csv`, buyer.token);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="${inv.number}.csv"`);
    const csvText = Buffer.from(csv.bytes).toString('utf8');
    expect(csvText).toContain(`invoice,${inv.number}\r\n`);
    expect(csvText).toContain(`buyer_org_id,${buyer.orgId}\r\n`);
    expect(csvText).toContain('subtotal,20.00\r\ncredits,0.00\r\ntotal,20.00\r\n');
    expect(csvText).toContain('Slot-hours,slot_h,2,10.00,20.00\r\n');
    for (const path of [`/v1/invoices/${inv.id}.pdf`, `/v1/invoices/${inv.id}?format=pdf`]) {
      const pdf = await download(path, buyer.token);
      expect(pdf.status).toBe(200);
      expect(pdf.type).toBe('application/pdf');
      expect(Buffer.from(pdf.bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
      const read = await pdfText(pdf.bytes);
      expect(read.title).toBe(`Invoice ${inv.number}`);
      const text = read.pages.join(' ');
      expect(text).toContain(inv.number);
      expect(text).toContain(buyer.orgId);
      expect(text).toMatch(/Subtotal 20\.00 SLA credits 0\.00 Total 20\.00 CNY/);
      expect(text).toContain('Slot-hours slot_h 2 10.00 20.00');
    }
    const sellerPdf = await download(`/v1/invoices/${inv.id}.pdf`, seller.token);
    const sellerText = (await pdfText(sellerPdf.bytes)).pages.join(' ');
    expect(sellerText).not.toContain(buyer.orgId);
    expect(sellerText).toMatch(/Buyer \(pseudonym\) buyer-[0-9a-f]{16}/);
    const sellerCsv = Buffer.from(
      (await download(`/v1/invoices/${inv.id}.csv`, seller.token)).bytes,
    ).toString('utf8');
    expect(sellerCsv).not.toContain(buyer.orgId);
    expect(sellerCsv).toMatch(/buyer_pseudonym,buyer-[0-9a-f]{16}\r\n/);
    expect((await download(`/v1/invoices/${inv.id}.pdf`, stranger.token)).status).toBe(404);
    expect((await download(`/v1/invoices/${inv.id}.xls`, buyer.token)).status).toBe(400);
    expect((await download(`/v1/invoices/${inv.id}?format=xml`, buyer.token)).status).toBe(400);

    const theirs = await seller.client.get<InvoiceView>(`/v1/invoices/${inv.id}`);
    expect(theirs.status).toBe(200);
    expect(theirs.body.buyerOrgId).not.toBe(buyer.orgId);
    expect(theirs.body.buyerOrgId).toMatch(/^buyer-[0-9a-f]{16}$/);
    expect((await stranger.client.get(`/v1/invoices/${inv.id}`)).status).toBe(404);
    expect((await stranger.client.get<Page<InvoiceView>>('/v1/invoices')).body.items).toEqual([]);

    const tb = await operator.get<TrialBalance>('/v1/admin/ledger/trial-balance');
    expect(tb.status).toBe(200);
    expect(tb.body.balanced).toBe(true);
    expect(tb.body.currencies).toEqual([{ currency: 'CNY', entries: '0.00', balances: '0.00' }]);
    expect((await buyer.client.get('/v1/admin/ledger/trial-balance')).status).toBe(403);
  });

  /** A seller's offer at 10.00 per slot-hour and a buyer (100.00 CNY) who ordered it. */
  async function leased(hours: number) {
    const s = await sellerWithOffer(api, { prices: [{ unit: 'slot_h', price: '10.00' }] });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: s.offer.id,
      slots: 1,
      hours,
    });
    expect(order.status).toBe(201);
    return { ...s, buyer, leaseId: order.body.lease.id };
  }
  const tick = () => api.app.get(SettlementScheduler).runOnce();
  const endEvents = async (leaseId: string) =>
    api.app.get(DataSource).query(
      `SELECT type, payload->>'reason' AS reason FROM lease_events_outbox
          WHERE lease_id = $1 AND type = 'lease.ended' ORDER BY id`,
      [leaseId],
    );
  const invoiceOf = async (buyer: { client: ReturnType<typeof apiClient> }, leaseId: string) =>
    (
      await buyer.client.get<Page<InvoiceView & { sla: { creditPercent: string } }>>('/v1/invoices')
    ).body.items.find((i) => i.leaseId === leaseId);

  it('ends a lease whose resource stays offline past the SLA limit as sla_breach, credited on its invoice', async () => {
    const t0 = api.clock.now().getTime(); // a whole hour
    const { buyer, leaseId, resource, beat, seller } = await leased(4);
    // Online for the first 20 minutes (history and the agent's beat), then silent: offline from
    // 20 + 15 minutes, so the 60-minute limit runs out 95 minutes in.
    await reportOnline(
      api.app.get(DataSource),
      resource.id,
      new Date(t0),
      new Date(t0 + 20 * MINUTE),
    );
    api.clock.advance(20 * MINUTE);
    await beat();
    const lease = async () => (await buyer.client.get<LeaseView>(`/v1/leases/${leaseId}`)).body;

    api.clock.advance(40 * MINUTE); // offline for 25 minutes: within the limit
    expect(await tick()).toBe('ran');
    expect((await lease()).state).toBe('active');

    api.clock.advance(40 * MINUTE); // 100 minutes in: past it
    expect(await tick()).toBe('ran');
    expect(await lease()).toMatchObject({
      state: 'ended',
      endReason: 'sla_breach',
      endedAt: new Date(t0 + 95 * MINUTE).toISOString(),
    });
    expect(await endEvents(leaseId)).toEqual([{ type: 'lease.ended', reason: 'sla_breach' }]);
    const mine = await seller.client.get<{ state: string }>(`/v1/resources/${resource.id}`);
    expect(mine.body.state).toBe('schedulable');

    api.clock.advance(20 * MINUTE); // the last period's hour is complete: invoiced
    expect(await tick()).toBe('ran');
    // 10.00 + 35 min × 10.00/h = 5.8333 → 5.83; online 21 of 95 minutes → 100 % credited back.
    expect(await invoiceOf(buyer, leaseId)).toMatchObject({
      subtotal: '15.83',
      credits: '15.83',
      total: '0.00',
      sla: { activeMinutes: 95, availableMinutes: 21, creditPercent: '100' },
    });
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '100.00',
      held: '0.00',
    });
  });

  it('retiring a resource ends its open leases as resource_retired; they are invoiced with their SLA credit', async () => {
    const t1 = api.clock.now().getTime(); // a whole hour
    const { buyer, leaseId, resource, seller, offer } = await leased(3);
    // Online 29 of the 30 minutes it runs.
    await reportOnline(
      api.app.get(DataSource),
      resource.id,
      new Date(t1),
      new Date(t1 + 29 * MINUTE),
    );
    api.clock.advance(30 * MINUTE);
    const retired = await seller.client.post<{ state: string }>(
      `/v1/resources/${resource.id}/retire`,
      {},
    );
    expect(retired.status).toBe(200);
    expect(retired.body.state).toBe('retired');
    expect((await buyer.client.get<LeaseView>(`/v1/leases/${leaseId}`)).body).toMatchObject({
      state: 'ended',
      endReason: 'resource_retired',
      endedAt: new Date(t1 + 30 * MINUTE).toISOString(),
    });
    expect(await endEvents(leaseId)).toEqual([{ type: 'lease.ended', reason: 'resource_retired' }]);
    expect(
      (await apiClient(api.url).get<{ status: string }>(`/v1/offers/${offer.id}`)).body.status,
    ).toBe('closed');

    api.clock.advance(30 * MINUTE);
    expect(await tick()).toBe('ran');
    // 30 min × 10.00/h = 5.00 (fee 0.25, net 4.75); 29 / 30 = 96.67 % < 99 → 25 %: seller
    // 4.75 × 0.25 = 1.1875 → 1.19, platform 0.0625 → 0.06; credit 1.25.
    expect(await invoiceOf(buyer, leaseId)).toMatchObject({
      subtotal: '5.00',
      credits: '1.25',
      total: '3.75',
      sla: { activeMinutes: 30, availableMinutes: 29, creditPercent: '25' },
    });
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '96.25',
      held: '0.00',
    });
  });
});
