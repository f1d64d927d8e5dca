import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DebitNoteView, InvoiceView, OrderView, Page, WalletView } from '@suanli/contracts';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import type { TrialBalance } from '../ledger/ledger.service.js';

const HOUR = 3_600_000;
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
});
