// Usage over HTTP on the real API, PostgreSQL and Kafka: lease events published through the
// outbox reach the real ingest; API keys; plain CloudEvents posted with a key are applied
// (unsigned) or dead-lettered when the offer refuses them; dead letters and usage series.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type {
  ApiKeyView,
  CreatedApiKeyView,
  DeadLetterPage,
  OfferView,
  OrderView,
  ResourceView,
  UsageEvent,
  UsagePoint,
} from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { computeUnits, CURRENT_CATALOG } from '@suanli/units';
import {
  buyerWithLease,
  fundWallet,
  reportIn,
  sellerWithOffer,
  signUpActor,
} from '../../../../test/support/actors.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import { apiClient } from '../../../../test/support/http.js';
import type { TestMarketApi } from '../../../../test/support/market-api.js';
import { startUsageStack, type UsageStack } from '../../../../test/support/usage-stack.js';
import { Decimal } from '@suanli/money';

let stack: UsageStack;
let api: TestMarketApi;
let pool: pg.Pool;

beforeAll(async () => {
  stack = await startUsageStack('usage-http');
  ({ api, pool } = stack);
}, 120_000);

afterAll(() => stack?.close(), 60_000);

const SPEC_ACCEL = 'H100';

function cloudEvent(leaseId: string, cri: string, minute: number, source: string): UsageEvent {
  const start = new Date(Date.parse('2026-11-28T10:00:00Z') + minute * 60_000);
  const usage = { duration_s: '60', acc_s: { [SPEC_ACCEL]: '240' } };
  return {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: 'exchange.usage.v1',
    subject: leaseId,
    time: new Date(start.getTime() + 60_000).toISOString(),
    datacontenttype: 'application/json',
    data: {
      cri,
      window: { start: start.toISOString(), end: new Date(start.getTime() + 60_000).toISOString() },
      usage,
      units: computeUnits(usage, { catalog: CURRENT_CATALOG, class: 'AI' }) as Record<
        string,
        string
      >,
      catalog: CURRENT_CATALOG,
    },
  };
}

/** A fixed-price offer (10.00 CNY a slot-hour) that accepts unsigned usage. */
function unsignedOffer(
  seller: Awaited<ReturnType<typeof signUpActor>>,
  resourceId: string,
  title: string,
  capacity: number,
) {
  return seller.client.post<OfferView>('/v1/offers', {
    resourceId,
    title,
    currency: 'CNY',
    capacity,
    pricingModel: 'fixed',
    prices: [{ unit: 'slot_h', price: '10.00' }],
    acceptsUnsigned: true,
  });
}

async function post(path: string, token: string, contentType: string, body: unknown) {
  const res = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('usage over HTTP (API keys, unsigned CloudEvents, dead letters, series)', () => {
  it('meters plain CloudEvents posted with an API key, and dead-letters what the offer refuses', async () => {
    const { seller, resource, offer: signedOnly } = await sellerWithOffer(api);
    const open = await unsignedOffer(seller, resource.id, 'H100, unsigned usage welcome', 2);
    expect(open.status).toBe(201);
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
    const order = async (offerId: string) =>
      (await buyer.client.postIdempotent<OrderView>('/v1/orders', { offerId, slots: 1, hours: 2 }))
        .body.lease;
    const openLease = await order(open.body.id);
    const closedLease = await order(signedOnly.id);

    // The market's lease events reached the ingest's own read model through the outbox.
    await expectEventually(async () => {
      const { rows } = await pool.query<{ id: string; accepts_unsigned: boolean }>(
        'SELECT id, accepts_unsigned FROM metering_leases WHERE id = ANY($1::uuid[]) ORDER BY accepts_unsigned',
        [[openLease.id, closedLease.id]],
      );
      expect(rows).toEqual([
        { id: closedLease.id, accepts_unsigned: false },
        { id: openLease.id, accepts_unsigned: true },
      ]);
    });

    // API keys: the secret is shown once, stored hashed, listed without it.
    const created = await seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
      name: 'dcgm exporter',
      scopes: ['usage:write'],
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret;
    expect(secret).toMatch(/^sk_[\w-]{43}$/);
    const { rows: stored } = await pool.query<{ secret_hash: string }>(
      'SELECT secret_hash FROM api_keys WHERE id = $1',
      [created.body.id],
    );
    expect(stored[0].secret_hash).not.toContain(secret.slice(3));
    const listed = await seller.client.get<{ items: (ApiKeyView & { secret?: string })[] }>(
      '/v1/api-keys',
    );
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0].secret).toBeUndefined();
    expect(listed.body.items[0].lastUsedAt).toBeNull();

    const source = 'dcgm-exporter/node-1';
    const one = cloudEvent(openLease.id, resource.cri, 0, source);
    const single = await post('/v1/usage/events', secret, 'application/cloudevents+json', one);
    expect(single).toEqual({ status: 202, body: { accepted: 1, ids: [one.id], rated: [] } });
    const batch = [
      cloudEvent(openLease.id, resource.cri, 1, source),
      cloudEvent(openLease.id, resource.cri, 2, source),
      cloudEvent(closedLease.id, resource.cri, 0, source),
    ];
    const many = await post(
      '/v1/usage/events',
      secret,
      'application/cloudevents-batch+json',
      batch,
    );
    expect(many.status).toBe(202);
    // The same event again is counted once.
    await post('/v1/usage/events', secret, 'application/cloudevents+json', one);

    const applied = [one, batch[0], batch[1]];
    const perMinute = applied[0].data.units['scu.ai'];
    await expectEventually(async () => {
      const usage = await buyer.client.get<{ items: UsagePoint[] }>(
        `/v1/leases/${openLease.id}/usage?granularity=minute`,
      );
      expect(usage.body.items.filter((p) => p.unit === 'scu.ai')).toHaveLength(3);
    });
    // from/to select buckets in [from, to).
    const ranged = await buyer.client.get<{ items: UsagePoint[] }>(
      `/v1/leases/${openLease.id}/usage?granularity=minute&from=2026-11-28T10:01:00Z&to=2026-11-28T10:02:00Z`,
    );
    expect(ranged.body.items.filter((p) => p.unit === 'scu.ai')).toEqual([
      { unit: 'scu.ai', bucket: '2026-11-28T10:01:00.000Z', quantity: perMinute },
    ]);
    const { rows: events } = await pool.query<{ signed: boolean }>(
      'SELECT signed FROM usage_events WHERE source = $1',
      [source],
    );
    expect(events).toEqual(applied.map(() => ({ signed: false })));
    // The seller's per-resource series.
    const byResource = await seller.client.get<{ items: UsagePoint[] }>(
      `/v1/resources/${resource.id}/usage?granularity=hour`,
    );
    expect(byResource.body.items.find((p) => p.unit === 'scu.ai')?.quantity).toBe(
      new Decimal(perMinute).times(3).toFixed(9),
    );

    // The lease whose offer takes signed usage only: a dead letter the seller can see.
    await expectEventually(async () => {
      const page = await seller.client.get<DeadLetterPage>(
        `/v1/usage/dead-letters?lease=${closedLease.id}`,
      );
      expect(page.body.items.map((d) => [d.reason, d.eventId])).toEqual([
        ['bad_signature', batch[2].id],
      ]);
      expect(page.body.items[0].detail).toMatch(/^unsigned usage refused/);
    });
    const key = await seller.client.get<{ items: ApiKeyView[] }>('/v1/api-keys');
    expect(key.body.items[0].lastUsedAt).toBe(api.clock.now().toISOString());

    // The buyer cancels: lease.ended reaches the ingest's read model (no usage after it).
    api.clock.advance(10 * 60_000);
    expect((await buyer.client.post(`/v1/leases/${closedLease.id}/cancel`, {})).status).toBe(200);
    await expectEventually(async () => {
      const { rows } = await pool.query<{ state: string; ended_at: Date }>(
        'SELECT state, ended_at FROM metering_leases WHERE id = $1',
        [closedLease.id],
      );
      expect(rows[0]).toEqual({ state: 'ended', ended_at: api.clock.now() });
    });
    const { rows: outbox } = await pool.query<{ type: string; published: boolean }>(
      `SELECT type, published_at IS NOT NULL AS published FROM lease_events_outbox
        WHERE lease_id = $1 ORDER BY id`,
      [closedLease.id],
    );
    expect(outbox).toEqual([
      { type: 'lease.started', published: true },
      { type: 'lease.ended', published: true },
    ]);
  }, 90_000);

  it('applies one of 200 copies of a window posted under other ids and sources: the capacity rule (issue 18)', async () => {
    // The probe's lease: one slot of 8 vCPUs, its offer taking unsigned usage.
    const seller = await signUpActor(api, ['seller']);
    const resource = (
      await seller.client.post<ResourceView>('/v1/resources', {
        name: 'vm',
        class: 'GEN',
        form: 'VM',
        location: { country: 'CN', subdivision: 'SH', site: 'PD1' },
        spec: { cpu: 8, memGiB: 32 },
      })
    ).body;
    const key = await generateSigningKey();
    const agent = (
      await seller.client.post<{ id: string }>(`/v1/resources/${resource.id}/agents`, {
        publicJwk: key.publicJwk,
      })
    ).body;
    await reportIn(api, agent.id, key.privateJwk, key.kid);
    const offer = await unsignedOffer(seller, resource.id, '8 vCPU VM', 1);
    expect(offer.status).toBe(201);
    const { buyer, lease } = await buyerWithLease(api, offer.body.id);
    await expectEventually(async () => {
      const { rows } = await pool.query('SELECT 1 FROM metering_leases WHERE id = $1', [lease.id]);
      expect(rows).toHaveLength(1);
    });
    const secret = (
      await seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
        name: 'collector',
        scopes: ['usage:write'],
      })
    ).body.secret;

    // 30 seconds at full load, 200 times: each copy its own id and source, in 4 requests.
    const start = new Date(lease.startsAt);
    const end = new Date(start.getTime() + 30_000);
    const usage = { duration_s: '30', cpu_core_s: '240', mem_gib_s: '960' };
    const units = computeUnits(usage, { catalog: CURRENT_CATALOG, class: 'GEN' }) as Record<
      string,
      string
    >;
    const copy = (i: number): UsageEvent => ({
      specversion: '1.0',
      id: randomUUID(),
      source: `probe-${i}`,
      type: 'exchange.usage.v1',
      subject: lease.id,
      time: end.toISOString(),
      data: {
        cri: resource.cri,
        window: { start: start.toISOString(), end: end.toISOString() },
        usage,
        units,
        catalog: CURRENT_CATALOG,
      },
    });
    for (let r = 0; r < 4; r++) {
      const sent = await post(
        '/v1/usage/events',
        secret,
        'application/cloudevents-batch+json',
        Array.from({ length: 50 }, (_, i) => copy(r * 50 + i)),
      );
      expect(sent.status).toBe(202);
    }
    await expectEventually(async () => {
      const refused = await seller.client.get<DeadLetterPage>(
        `/v1/usage/dead-letters?lease=${lease.id}&reason=over_capacity&limit=500`,
      );
      expect(refused.body.items).toHaveLength(199);
    });
    const usageSeries = await buyer.client.get<{ items: UsagePoint[] }>(
      `/v1/leases/${lease.id}/usage?granularity=minute`,
    );
    expect(usageSeries.body.items.filter((p) => p.unit === 'scu.gen')).toEqual([
      { unit: 'scu.gen', bucket: start.toISOString(), quantity: units['scu.gen'] },
    ]);
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM usage_events WHERE lease_id = $1',
      [lease.id],
    );
    expect(rows[0]).toEqual({ n: 1 });
  }, 90_000);

  it('refuses bad requests: invalid events, other content types, JWTs, revoked keys', async () => {
    const seller = await signUpActor(api, ['seller']);
    const created = await seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
      name: 'k',
      scopes: ['usage:write'],
    });
    const secret = created.body.secret;
    const ev = cloudEvent(randomUUID(), 'CRI1:x', 0, 'collector');
    const bad = await post('/v1/usage/events', secret, 'application/cloudevents-batch+json', [
      ev,
      { ...ev, data: { ...ev.data, usage: { duration_s: 'sixty' } } },
    ]);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('1.data.usage.duration_s');
    expect(
      (await post('/v1/usage/events', secret, 'application/cloudevents+json', [ev])).status,
    ).toBe(400);
    expect((await post('/v1/usage/events', secret, 'text/plain', ev)).status).toBe(415);
    // A user's access token is not an API key.
    expect(
      (await post('/v1/usage/events', seller.token, 'application/cloudevents+json', ev)).status,
    ).toBe(403);
    expect(
      (await post('/v1/usage/events', 'sk_not-a-key', 'application/cloudevents+json', ev)).status,
    ).toBe(401);
    expect(
      (await seller.client.post('/v1/api-keys', { name: 'x', scopes: ['usage:delete'] })).status,
    ).toBe(400);
    // Revoked: refused from then on; another organization cannot revoke it.
    const other = await signUpActor(api, ['seller']);
    const del = (token: string) =>
      fetch(`${api.url}/v1/api-keys/${created.body.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await del(other.token)).status).toBe(404);
    const revoked = await del(seller.token);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as ApiKeyView).revokedAt).not.toBeNull();
    expect(
      (await post('/v1/usage/events', secret, 'application/cloudevents+json', ev)).status,
    ).toBe(401);
  }, 60_000);

  it('shows dead letters to their seller, all of them to an operator, filtered and paged', async () => {
    const { seller, resource, agent } = await sellerWithOffer(api);
    const stranger = await signUpActor(api, ['seller']);
    const leaseId = randomUUID();
    for (let i = 0; i < 3; i++) {
      await pool.query(
        `INSERT INTO usage_dead_letters (dedupe_key, reason, detail, agent_id, seq, event_id, lease_id)
         VALUES ($1, $2, 'test', $3, $4, $5, $6)`,
        [
          randomUUID(),
          i === 2 ? 'late' : 'chain_gap',
          agent.id,
          i,
          `e${i}`,
          i === 2 ? leaseId : null,
        ],
      );
    }
    const page1 = await seller.client.get<DeadLetterPage>('/v1/usage/dead-letters?limit=2');
    expect(page1.body.items.map((d) => d.eventId)).toEqual(['e2', 'e1']);
    const page2 = await seller.client.get<DeadLetterPage>(
      `/v1/usage/dead-letters?limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items.map((d) => d.eventId)).toEqual(['e0']);
    expect(page2.body.nextCursor).toBeNull();
    const late = await seller.client.get<DeadLetterPage>(
      `/v1/usage/dead-letters?reason=late&resource=${resource.id}`,
    );
    expect(late.body.items.map((d) => [d.reason, d.leaseId])).toEqual([['late', leaseId]]);
    expect(
      (await stranger.client.get<DeadLetterPage>('/v1/usage/dead-letters')).body.items,
    ).toEqual([]);
    const operator = apiClient(api.url, await api.operatorToken());
    const all = await operator.get<DeadLetterPage>('/v1/usage/dead-letters?limit=500');
    expect(all.body.items.map((d) => d.eventId)).toEqual(
      expect.arrayContaining(['e0', 'e1', 'e2']),
    );
    const buyer = await signUpActor(api, ['buyer']);
    expect((await buyer.client.get('/v1/usage/dead-letters')).status).toBe(403);
    expect((await seller.client.get('/v1/usage/dead-letters?reason=nope')).status).toBe(400);
  }, 60_000);
});
