import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { AdminOrganizationView, FeesView, LeaseView } from '@suanli/contracts';
import { apiClient } from '../../../../test/support/http.js';
import { buyerWithLease, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(60_000);

describe('operator fees and members (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  beforeAll(async () => {
    api = await startMarketApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  async function putFees(token: string, body: unknown) {
    const res = await fetch(`${api.url}/v1/admin/fees`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('starts at TAKE_RATE, rejects bad rates by field, and prices new leases with a new rate', async () => {
    const op = apiClient(api.url, await api.operatorToken());
    const before = await op.get<FeesView>('/v1/admin/fees');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ takeRate: '0.05', source: 'default', history: [] });

    const bad = await putFees(await api.operatorToken(), { takeRate: '1.5' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      error: { code: 'validation_failed', details: { issues: [{ path: 'takeRate' }] } },
    });

    const set = await putFees(await api.operatorToken(), { takeRate: '0.08', note: 'promo' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      takeRate: '0.08',
      source: 'schedule',
      history: [{ takeRate: '0.08', note: 'promo', effectiveFrom: '2026-11-28T10:00:00.000Z' }],
    });

    const { offer } = await sellerWithOffer(api);
    const { buyer, lease: ordered } = await buyerWithLease(api, offer.id);
    const lease = await buyer.client.get<LeaseView>(`/v1/leases/${ordered.id}`);
    expect(lease.body.takeRate).toMatch(/^0\.080*$/);
  });

  it('only operators see or change fees', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    expect((await buyer.client.get('/v1/admin/fees')).status).toBe(403);
    expect((await putFees(buyer.token, { takeRate: '0.01' })).status).toBe(403);
  });

  it('lists organizations with roles and members, filtered by role and name', async () => {
    const op = apiClient(api.url, await api.operatorToken());
    const seller = await signUpActor(api, ['seller']);
    const all = await op.get<{ items: AdminOrganizationView[] }>('/v1/admin/organizations');
    expect(all.status).toBe(200);
    const row = all.body.items.find((o) => o.id === seller.orgId);
    expect(row).toMatchObject({ roles: ['seller'], members: 1, industry: 'I' });
    const sellers = await op.get<{ items: AdminOrganizationView[] }>(
      '/v1/admin/organizations?role=seller',
    );
    expect(sellers.body.items.every((o) => o.roles.includes('seller'))).toBe(true);
    expect(sellers.body.items.some((o) => o.id === seller.orgId)).toBe(true);
    const named = await op.get<{ items: AdminOrganizationView[] }>(
      '/v1/admin/organizations?q=operations',
    );
    expect(named.body.items.map((o) => o.name)).toEqual(['Exchange operations']);
    expect((await seller.client.get('/v1/admin/organizations')).status).toBe(403);
  });
});
