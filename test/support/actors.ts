import type { OfferView, OrderView, ResourceView, SessionView } from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { agentToken } from '../../apps/metering/src/agent/lease-client.js';
import type { Jwk } from '../../apps/metering/src/shared/signing.js';
import { apiClient } from './http.js';
import type { TestMarketApi } from './market-api.js';

let n = 0;

/** Signs up an organization with the given roles and returns its token and a client. */
export async function signUpActor(api: TestMarketApi, roles: ('buyer' | 'seller')[]) {
  const email = `actor${++n}-${Date.now()}@suanli.test`;
  const r = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
    email,
    password: 'actor-password-123',
    displayName: `actor ${n}`,
    organization: { name: `actor org ${n}`, roles, industry: 'I' },
  });
  if (r.status !== 201) throw new Error(`sign-up: ${r.status} ${JSON.stringify(r.body)}`);
  return {
    email,
    password: 'actor-password-123',
    orgId: r.body.organization.id,
    token: r.body.accessToken,
    client: apiClient(api.url, r.body.accessToken),
  };
}

/**
 * The agent reports in as a real one does: it fetches its leases (the resource becomes
 * `connected`) and sends an online heartbeat (the resource is online, so it can be ordered).
 * Returns `beat`, another online heartbeat at the API's current clock (after a test moves it
 * further than the live-status window).
 */
export async function reportIn(
  api: TestMarketApi,
  agentId: string,
  privateJwk: Jwk,
  kid: string,
): Promise<() => Promise<void>> {
  // A fresh token each time: an agent token lives a minute.
  const agentApi = async () =>
    apiClient(api.url, await agentToken(agentId, { ...privateJwk, kid }));
  await (await agentApi()).get('/v1/agents/me/leases');
  const beat = async () => {
    const r = await (await agentApi()).post('/v1/agents/me/heartbeats', { status: 'online' });
    if (r.status !== 202) throw new Error(`heartbeat: ${r.status} ${JSON.stringify(r.body)}`);
  };
  await beat();
  return beat;
}

/**
 * A seller with one connected H100 resource and an active offer on it. The resource has room
 * for more offers (`resourceCapacity`, default 100 slots): offers draw from it.
 */
export async function sellerWithOffer(
  api: TestMarketApi,
  offer: Partial<{
    title: string;
    capacity: number;
    resourceCapacity: number;
    currency: string;
    /** Rows of the pricing model (tiers, reserved block or bid floor as the model needs). */
    prices: Record<string, unknown>[];
    pricingModel: 'fixed' | 'tiered' | 'reserved' | 'interruptible';
    sla: { target: string; schedule: { below: string; credit: string }[] };
    /** The offer takes plain CloudEvents posted with an API key (`POST /v1/usage/events`). */
    acceptsUnsigned: boolean;
    /** The resource's form (default BM). */
    form: 'BM' | 'VM' | 'CTR' | 'API' | 'JOB';
  }> = {},
) {
  const seller = await signUpActor(api, ['seller']);
  const resource = (
    await seller.client.post<ResourceView>('/v1/resources', {
      name: 'node',
      class: 'AI',
      form: offer.form ?? 'BM',
      location: { country: 'CN', subdivision: 'SH', site: 'PD1' },
      spec: { cpu: 64, memGiB: 512, accel: { count: 8, model: 'H100' } },
      capacity: offer.resourceCapacity ?? 100,
    })
  ).body;
  const key = await generateSigningKey();
  const agent = (
    await seller.client.post<{ id: string }>(`/v1/resources/${resource.id}/agents`, {
      publicJwk: key.publicJwk,
    })
  ).body;
  const beat = await reportIn(api, agent.id, key.privateJwk, key.kid);
  const created = await seller.client.post<OfferView>('/v1/offers', {
    resourceId: resource.id,
    title: offer.title ?? 'H100 bare metal',
    currency: offer.currency ?? 'CNY',
    capacity: offer.capacity ?? 2,
    pricingModel: offer.pricingModel ?? 'fixed',
    prices: offer.prices ?? [{ unit: 'slot_h', price: '10.00' }],
    ...(offer.sla ? { sla: offer.sla } : {}),
    ...(offer.acceptsUnsigned !== undefined ? { acceptsUnsigned: offer.acceptsUnsigned } : {}),
  });
  if (created.status !== 201)
    throw new Error(`offer: ${created.status} ${JSON.stringify(created.body)}`);
  return { seller, resource, offer: created.body, agent, key, beat };
}

export async function fundWallet(
  api: TestMarketApi,
  orgId: string,
  currency: string,
  amount: string,
) {
  const r = await apiClient(api.url, await api.operatorToken()).postIdempotent(
    `/v1/admin/wallets/${orgId}/credits`,
    {
      currency,
      amount,
      memo: 'test funding',
    },
  );
  if (r.status !== 201) throw new Error(`funding: ${r.status} ${JSON.stringify(r.body)}`);
}

/** A new buyer, funded with 1000.00 CNY, that has ordered `slots` × `hours` of the offer. */
export async function buyerWithLease(
  api: TestMarketApi,
  offerId: string,
  order: { slots?: number; hours?: number } = {},
) {
  const buyer = await signUpActor(api, ['buyer']);
  await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
  const r = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
    offerId,
    slots: order.slots ?? 1,
    hours: order.hours ?? 1,
  });
  if (r.status !== 201) throw new Error(`order: ${r.status} ${JSON.stringify(r.body)}`);
  return { buyer, order: r.body, lease: r.body.lease };
}
