import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  DemandMatchView,
  OfferView,
  OrderView,
  Page,
  ResourceView,
  WalletView,
} from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { agentToken } from '../../../metering/src/agent/lease-client.js';
import { fundWallet, reportIn, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(120_000);

type Seller = Awaited<ReturnType<typeof signUpActor>>;

describe('catalog and offer management (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  let seller: Seller;
  const offers: Record<string, OfferView> = {};
  /** Each resource's agent (id and signing key), to report as it later. */
  const agents: Record<
    string,
    { id: string; key: Awaited<ReturnType<typeof generateSigningKey>> }
  > = {};

  async function connectedResource(body: object): Promise<ResourceView> {
    const r = (await seller.client.post<ResourceView>('/v1/resources', body)).body;
    const key = await generateSigningKey();
    const agent = (
      await seller.client.post<{ id: string }>(`/v1/resources/${r.id}/agents`, {
        publicJwk: key.publicJwk,
      })
    ).body;
    await reportIn(api, agent.id, key.privateJwk, key.kid);
    agents[r.id] = { id: agent.id, key };
    return r;
  }

  async function offer(name: string, resource: ResourceView, prices: object[], currency = 'CNY') {
    const r = await seller.client.post<OfferView>('/v1/offers', {
      resourceId: resource.id,
      title: name,
      currency,
      capacity: 2,
      pricingModel: 'fixed',
      prices,
    });
    expect(r.status).toBe(201);
    offers[name] = r.body;
  }

  beforeAll(async () => {
    api = await startMarketApi();
    seller = await signUpActor(api, ['seller']);
    const h200 = await connectedResource({
      name: 'h200',
      class: 'AI',
      form: 'CTR',
      location: { country: 'CN', subdivision: 'GZ', site: 'GA1' },
      spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
      capacity: 4,
    });
    const a100 = await connectedResource({
      name: 'a100',
      class: 'AI',
      form: 'BM',
      location: { country: 'CN', subdivision: 'BJ', site: 'HD1' },
      spec: { cpu: 64, memGiB: 512, accel: { count: 4, model: 'A100' } },
      capacity: 2,
    });
    const vm = await connectedResource({
      name: 'vm',
      class: 'GEN',
      form: 'VM',
      location: { country: 'CN', subdivision: 'NM', site: 'WLC' },
      spec: { cpu: 16, memGiB: 64 },
      capacity: 2,
    });
    // H200 ×8: 7.912 scu.ai per slot-hour; A100 ×4: 1.248.
    await offer('h200-cheap', h200, [{ unit: 'slot_h', price: '39.56' }]); // 5.00 / scu.ai
    await offer('h200-dear', h200, [{ unit: 'scu.ai', price: '9.00' }]); // 9.00
    await offer('a100', a100, [{ unit: 'slot_h', price: '8.736' }]); // 7.00
    await offer('vm', vm, [{ unit: 'slot_h', price: '0.80' }], 'USD'); // 0.05 / scu.gen
  });
  afterAll(async () => {
    await api?.close();
  });

  const search = (qs: string) => apiClient(api.url).get<Page<OfferView>>(`/v1/offers?${qs}`);
  const titles = (p: Page<OfferView>) => p.items.map((o) => o.title);

  it('stores and shows the normalized price of every offer', () => {
    expect(offers['h200-cheap'].normalizedPrice).toEqual({ unit: 'scu.ai', price: '5' });
    expect(offers['a100'].normalizedPrice).toEqual({ unit: 'scu.ai', price: '7' });
    expect(offers['vm'].normalizedPrice).toEqual({ unit: 'scu.gen', price: '0.05' });
  });

  it('filters by class, region prefix, accelerator model and count, and price range', async () => {
    expect(titles((await search('class=AI&sort=price')).body)).toEqual([
      'h200-cheap',
      'a100',
      'h200-dear',
    ]);
    expect(titles((await search('region=CN-GZ')).body).sort()).toEqual(['h200-cheap', 'h200-dear']);
    expect(titles((await search('accelerator=A100')).body)).toEqual(['a100']);
    expect(titles((await search('minAccelerators=8&sort=price')).body)).toEqual([
      'h200-cheap',
      'h200-dear',
    ]);
    expect(titles((await search('class=AI&minPrice=6&maxPrice=9&sort=price')).body)).toEqual([
      'a100',
      'h200-dear',
    ]);
    expect(titles((await search('currency=USD')).body)).toEqual(['vm']);
  });

  it('pages with a cursor without skipping or repeating, in every sort', async () => {
    for (const sort of ['newest', 'price', 'credibility']) {
      const seen: string[] = [];
      let cursor: string | null | undefined;
      let pages = 0;
      do {
        const r = await search(`sort=${sort}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.status).toBe(200);
        seen.push(...titles(r.body));
        cursor = r.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen.sort()).toEqual(Object.keys(offers).sort());
    }
    expect((await search('sort=price&cursor=bogus')).status).toBe(400);
    expect((await search('limit=1000')).status).toBe(400);
  });

  it('matches a demand to ranked, explained candidates the buyer can order directly', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const demand = {
      class: 'AI',
      accelerators: { models: ['H200', 'A100'], minCount: 4 },
      region: 'CN-GZ',
      slots: 1,
      hours: 2,
      currency: 'CNY',
    };
    const r = await buyer.client.post<{ items: DemandMatchView[] }>('/v1/demands', demand);
    expect(r.status).toBe(200);
    expect(r.body.items.map((m) => m.offer.title)).toEqual(['h200-cheap', 'h200-dear', 'a100']);
    const top = r.body.items[0];
    expect(top.components.map((c) => [c.name, c.value])).toEqual([
      ['price', '1'],
      ['credibility', '0.5'],
      ['locality', '1'],
      ['availability', '1'],
    ]);
    expect(top.score).toBe('0.85');
    const a100 = r.body.items[2];
    expect(a100.components.find((c) => c.name === 'locality')?.value).toBe('0.5');
    // Cheaper per unit than every H200 offer is only the a100 at 7.00: price cap 6 leaves one.
    const capped = await buyer.client.post<{ items: DemandMatchView[] }>('/v1/demands', {
      ...demand,
      maxPricePerUnit: '6',
    });
    expect(capped.body.items.map((m) => m.offer.title)).toEqual(['h200-cheap']);
    await fundWallet(api, buyer.orgId, 'CNY', '200.00');
    const order = await buyer.client.postIdempotent('/v1/orders', top.order);
    expect(order.status).toBe(201);
    const bad = await buyer.client.post<{ error: { code: string } }>('/v1/demands', {
      ...demand,
      slots: 0,
      colour: 'blue',
    });
    expect(bad.status).toBe(400);
    const asSeller = await seller.client.post('/v1/demands', demand);
    expect(asSeller.status).toBe(403);
  });

  it('edits, pauses, resumes and closes an offer; only its seller may', async () => {
    const id = offers['h200-dear'].id;
    const other = await signUpActor(api, ['seller']);
    expect((await other.client.post(`/v1/offers/${id}/pause`, {})).status).toBe(404);
    const edited = await seller.client.patch<OfferView>(`/v1/offers/${id}`, {
      prices: [{ unit: 'scu.ai', price: '8.50' }],
    });
    expect(edited.status).toBe(200);
    expect(edited.body.normalizedPrice).toEqual({ unit: 'scu.ai', price: '8.5' });
    expect((await seller.client.patch(`/v1/offers/${id}`, { price: '1' })).status).toBe(400);
    expect((await seller.client.patch(`/v1/offers/${id}`, { capacity: 0 })).status).toBe(400);
    expect((await seller.client.post(`/v1/offers/${id}/pause`, {})).status).toBe(200);
    expect(titles((await search('class=AI')).body)).not.toContain('h200-dear');
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '500.00');
    const paused = await buyer.client.postIdempotent('/v1/orders', {
      offerId: id,
      slots: 1,
      hours: 1,
    });
    expect(paused.status).toBe(404);
    expect((await seller.client.post(`/v1/offers/${id}/pause`, {})).status).toBe(409);
    expect((await seller.client.post(`/v1/offers/${id}/resume`, {})).status).toBe(200);
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: id,
      slots: 2,
      hours: 1,
    });
    expect(order.status).toBe(201);
    const shrink = await seller.client.patch<{ error: { details: { inUse: number } } }>(
      `/v1/offers/${id}`,
      { capacity: 1 },
    );
    expect(shrink.status).toBe(400);
    expect(shrink.body.error.details.inUse).toBe(2);
    expect(titles((await search('availableNow=true&class=AI')).body)).not.toContain('h200-dear');
    expect((await seller.client.post(`/v1/offers/${id}/close`, {})).status).toBe(200);
    expect((await seller.client.post(`/v1/offers/${id}/resume`, {})).status).toBe(409);
    // The running lease keeps its pinned terms.
    const lease = await buyer.client.get<{ state: string }>(`/v1/leases/${order.body.lease.id}`);
    expect(lease.body.state).toBe('active');
  });

  it('carries live status; available now means online and free; an offline resource is neither matched nor ordered', async () => {
    const r = await connectedResource({
      name: 'dark',
      class: 'AI',
      form: 'CTR',
      location: { country: 'CN', subdivision: 'GZ', site: 'GA2' },
      spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
      capacity: 2,
    });
    const { id: agentId, key } = agents[r.id];
    const beatAt = api.clock.now().toISOString();
    await offer('h200-dark', r, [{ unit: 'slot_h', price: '39.00' }]);
    const id = offers['h200-dark'].id;
    const report = async (status: 'online' | 'degraded' | 'offline') => {
      api.clock.advance(60_000); // a new minute: a beat with a repeated `at` is kept once
      const agentApi = apiClient(
        api.url,
        await agentToken(agentId, { ...key.privateJwk, kid: key.kid }),
      );
      expect((await agentApi.post('/v1/agents/me/heartbeats', { status })).status).toBe(202);
    };
    const liveOf = async () => {
      const inCatalog = (await search('region=CN-GZ')).body.items.find((o) => o.id === id);
      const page = (await apiClient(api.url).get<OfferView>(`/v1/offers/${id}`)).body;
      expect(inCatalog?.resource.live).toEqual(page.resource.live);
      return page.resource.live;
    };
    const demand = {
      class: 'AI',
      accelerators: { models: ['H200'], minCount: 8 },
      region: 'CN-GZ',
      slots: 1,
      hours: 1,
      currency: 'CNY',
    };
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const matched = async () =>
      (
        await buyer.client.post<{ items: DemandMatchView[] }>('/v1/demands', demand)
      ).body.items.find((m) => m.offer.id === id);

    expect(await liveOf()).toEqual({ status: 'online', lastHeartbeatAt: beatAt });
    expect(titles((await search('availableNow=true&region=CN-GZ')).body)).toContain('h200-dark');
    expect((await matched())?.components.find((c) => c.name === 'availability')?.value).toBe('1');

    // The agent says it is degraded: still orderable, ranked lower, not "available now".
    await report('degraded');
    expect((await liveOf()).status).toBe('degraded');
    expect(titles((await search('availableNow=true&region=CN-GZ')).body)).not.toContain(
      'h200-dark',
    );
    expect((await matched())?.components.find((c) => c.name === 'availability')).toMatchObject({
      value: '0.5',
      reason: '2 of 2 slots free; resource degraded (halved)',
    });

    // Offline: shown so, not matched, and an order is refused before anything is held.
    await report('offline');
    expect((await liveOf()).status).toBe('offline');
    expect(await matched()).toBeUndefined();
    const refused = await buyer.client.postIdempotent<{
      error: { code: string; details: { liveStatus: string } };
    }>('/v1/orders', { offerId: id, slots: 1, hours: 1 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'resource_offline',
      details: { liveStatus: 'offline' },
    });
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '100.00',
      held: '0.00',
    });

    // Back online: ordered. Silent for more than 15 minutes: offline by age.
    await report('online');
    expect(
      (await buyer.client.postIdempotent('/v1/orders', { offerId: id, slots: 1, hours: 1 })).status,
    ).toBe(201);
    api.clock.advance(15 * 60_000 + 1_000);
    expect((await liveOf()).status).toBe('offline');
    const late = await buyer.client.postIdempotent<{ error: { code: string } }>('/v1/orders', {
      offerId: id,
      slots: 1,
      hours: 1,
    });
    expect(late.body.error.code).toBe('resource_offline');
  });
});
