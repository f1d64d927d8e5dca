import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  DebitNoteView,
  InvoiceView,
  LeaseView,
  ResourceView,
  WalletView,
} from '@suanli/contracts';
import { parseCri } from '@suanli/cri';
import { apiClient } from '../support/http.js';
import { startMarketApi, type TestMarketApi } from '../support/market-api.js';
import { runSkeletonScenario, type SkeletonResult } from '../support/scenario.js';

jest.setTimeout(120_000);

describe('walking skeleton: register → offer → order → metering → settlement → invoice', () => {
  let api: TestMarketApi;
  let s: SkeletonResult;

  beforeAll(async () => {
    api = await startMarketApi();
    s = await runSkeletonScenario(api);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('gave the resource a valid CRI that the gateway resolves', async () => {
    const cri = parseCri(s.resource.cri);
    expect(cri.class).toBe('AI');
    expect(cri.form).toBe('CTR');
    expect(cri.spec).toEqual({ cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } });
    const resolved = await apiClient(api.url).get<ResourceView>(
      `/v1/cri/${encodeURIComponent(s.resource.cri)}`,
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body.handle).toBe(s.resource.handle);
    const byHandle = await apiClient(api.url).get<ResourceView>(
      `/v1/cri/${encodeURIComponent(s.resource.handle)}`,
    );
    expect(byHandle.body.cri).toBe(s.resource.cri);
  });

  it('issued the invoice for exactly the rated hour', async () => {
    const inv = await apiClient(api.url, s.buyer.token).get<InvoiceView>(
      `/v1/invoices/${s.invoiceId}`,
    );
    expect(inv.status).toBe(200);
    expect(inv.body.currency).toBe('CNY');
    expect(inv.body.total).toBe('40.60');
    expect(inv.body.subtotal).toBe('40.60');
    expect(inv.body.credits).toBe('0.00');
    const lines = Object.fromEntries(inv.body.lines.map((l) => [l.unit, l]));
    expect(lines['slot_h']).toMatchObject({ quantity: '1', unitPrice: '5.00', amount: '5.00' });
    expect(lines['scu.ai']).toMatchObject({
      quantity: '2.967',
      unitPrice: '12.00',
      amount: '35.60',
    });
  });

  it('ended the lease as completed, with one debit note carrying the fee', async () => {
    const asBuyer = apiClient(api.url, s.buyer.token);
    const lease = await asBuyer.get<LeaseView>(`/v1/leases/${s.leaseId}`);
    expect(lease.body.state).toBe('ended');
    expect(lease.body.endReason).toBe('completed');
    const notes = await asBuyer.get<{ items: DebitNoteView[] }>(
      `/v1/leases/${s.leaseId}/debit-notes`,
    );
    expect(notes.body.items).toHaveLength(1);
    expect(notes.body.items[0]).toMatchObject({ gross: '40.60', fee: '2.03', net: '38.57' });
  });

  it('balances the ledger: buyer paid = seller net + platform fee, nothing left held', async () => {
    const wallet = await apiClient(api.url, s.buyer.token).get<WalletView>('/v1/wallet');
    expect(wallet.body.balances).toEqual([
      { currency: 'CNY', available: '959.40', held: '0.00', total: '959.40' },
    ]);
    const trial = await apiClient(api.url, s.operatorToken).get<{
      balanced: boolean;
      currencies: { currency: string; entries: string; balances: string }[];
    }>('/v1/admin/ledger/trial-balance');
    expect(trial.status).toBe(200);
    expect(trial.body.balanced).toBe(true);
    for (const c of trial.body.currencies) {
      expect(c.entries).toMatch(/^-?0(\.0+)?$/);
      expect(c.balances).toMatch(/^-?0(\.0+)?$/);
    }
  });

  it('re-running settlement changes nothing', async () => {
    const op = apiClient(api.url, s.operatorToken);
    expect((await op.post('/v1/admin/settlement/run', {})).status).toBe(200);
    const invoices = await apiClient(api.url, s.buyer.token).get<{ items: InvoiceView[] }>(
      '/v1/invoices',
    );
    expect(invoices.body.items.filter((i) => i.leaseId === s.leaseId)).toHaveLength(1);
    const wallet = await apiClient(api.url, s.buyer.token).get<WalletView>('/v1/wallet');
    expect(wallet.body.balances[0].available).toBe('959.40');
  });

  it('hides the buyer invoice from the seller’s other views and other buyers', async () => {
    const stranger = apiClient(api.url, s.seller.token);
    const leaseAsSeller = await stranger.get<LeaseView>(`/v1/leases/${s.leaseId}`);
    expect(leaseAsSeller.status).toBe(200); // the seller sees leases on its own resources
    const noToken = await apiClient(api.url).get(`/v1/invoices/${s.invoiceId}`);
    expect(noToken.status).toBe(401);
  });
});
