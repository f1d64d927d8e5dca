import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  AgentDeliveryView,
  InvoiceView,
  LeaseAccessView,
  LeaseDeliveryEventView,
  LeaseView,
  OrderView,
  SshKeyView,
  WalletView,
} from '@suanli/contracts';
import pg from 'pg';
import { agentToken } from '../../../metering/src/agent/lease-client.js';
import { apiClient } from '../../../../test/support/http.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { DeliveryService } from './delivery.service.js';

jest.setTimeout(120_000);

const MINUTE = 60_000;

function publicKey(): string {
  const dir = mkdtempSync(join(tmpdir(), 'suanli-key-'));
  try {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    if (r.status !== 0) throw new Error(r.stderr.toString());
    return readFileSync(join(dir, 'k.pub'), 'utf8').trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The market side of delivery on the real API and PostgreSQL (docs/delivery.md): lease states,
 * the agent's control channel and reports, billing from the grant, the provisioning deadline.
 */
describe('delivery: lease states and the control channel (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  let db: pg.Client;
  beforeAll(async () => {
    api = await startMarketApi();
    db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await api?.close();
  });

  async function deliveringSeller() {
    const s = await sellerWithOffer(api, { prices: [{ unit: 'slot_h', price: '10.00' }] });
    const agent = apiClient(
      api.url,
      await agentToken(s.agent.id, { ...s.key.privateJwk, kid: s.key.kid }),
    );
    const caps = await agent.put<{ forms: string[] }>('/v1/agents/me/delivery/capabilities', {
      provisioners: [
        { name: 'ssh', ok: true, forms: ['BM', 'VM'] },
        { name: 'ctr', ok: false, forms: ['CTR'], detail: 'podman missing' },
      ],
    });
    expect(caps.status).toBe(200);
    expect(caps.body.forms).toEqual(['BM', 'VM']);
    return { ...s, agentApi: agent };
  }

  /** A buyer with 50.00 CNY and an SSH key has ordered one hour on a delivering resource. */
  async function orderedLease() {
    const { offer, agentApi } = await deliveringSeller();
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '50.00');
    await buyer.client.post('/v1/ssh-keys', { name: 'k', publicKey: publicKey() });
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    });
    return { agentApi, buyer, order };
  }

  it('walks pending → provisioning → active (billed from the grant) → suspended → active → ended, recording each step once', async () => {
    const { offer, seller, agentApi } = await deliveringSeller();
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');

    // SSH access without a key: refused before anything is held.
    const noKey = await buyer.client.postIdempotent<{ error: { code: string } }>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 2,
    });
    expect(noKey.status).toBe(422);
    expect(noKey.body.error.code).toBe('ssh_key_required');
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '100.00',
      held: '0.00',
    });

    // Keys: a malformed one is a 400 naming the field; a good one is kept with its fingerprint.
    const bad = await buyer.client.post<{ error: { code: string; details: { field: string } } }>(
      '/v1/ssh-keys',
      { name: 'bad', publicKey: 'ssh-ed25519 AAAA not-base64!' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('publicKey');
    const key = publicKey();
    const added = await buyer.client.post<SshKeyView>('/v1/ssh-keys', {
      name: 'laptop',
      publicKey: key,
    });
    expect(added.status).toBe(201);
    expect(added.body.fingerprint).toMatch(/^SHA256:/);
    expect(
      (await buyer.client.post('/v1/ssh-keys', { name: 'again', publicKey: key })).status,
    ).toBe(409);

    const before = await agentApi.get<AgentDeliveryView>('/v1/agents/me/delivery');
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 2,
    });
    expect(order.status).toBe(201);
    expect(order.body.lease.state).toBe('pending');
    const leaseId = order.body.lease.id;
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '90.00',
      held: '10.00',
    });

    // The control channel: a long-poll from the earlier cursor answers with the new lease.
    const view = await agentApi.get<AgentDeliveryView>(
      `/v1/agents/me/delivery?cursor=${before.body.cursor}&waitSeconds=5`,
    );
    expect(view.status).toBe(200);
    const l = view.body.leases.find((x) => x.leaseId === leaseId)!;
    expect(l).toMatchObject({
      form: 'BM',
      desired: 'active',
      awaitingAccess: true,
      reported: null,
    });
    expect(l.sshPublicKeys).toEqual([key]);
    // Nothing changed after this cursor: the long-poll waits, then answers the same.
    const t = Date.now();
    const idle = await agentApi.get<AgentDeliveryView>(
      `/v1/agents/me/delivery?cursor=${view.body.cursor}&waitSeconds=1`,
    );
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
    expect(idle.body.cursor).toBe(view.body.cursor);

    const report = (body: Record<string, unknown>) =>
      agentApi.post<{ recorded: boolean; state: string }>(
        `/v1/agents/me/leases/${leaseId}/delivery`,
        body,
      );
    expect((await report({ step: 'provisioning', version: l.version })).body).toEqual({
      recorded: true,
      state: 'provisioning',
    });
    // Bad input: granted without access.
    expect((await report({ step: 'granted', version: l.version })).status).toBe(400);

    // Access works 3 minutes after the order: the billed window starts there.
    api.clock.set(new Date(api.clock.now().getTime() + 3 * MINUTE));
    const grantedAt = new Date(Math.floor(api.clock.now().getTime() / 1000) * 1000);
    const access = {
      kind: 'ssh',
      host: '127.0.0.1',
      port: 2222,
      user: 'sl-abc',
      hostKeyFingerprints: [],
    };
    expect((await report({ step: 'granted', version: l.version, access })).body).toEqual({
      recorded: true,
      state: 'active',
    });
    expect((await report({ step: 'granted', version: l.version, access })).body.recorded).toBe(
      false,
    );
    const lease = (await buyer.client.get<LeaseView>(`/v1/leases/${leaseId}`)).body;
    expect(lease.state).toBe('active');
    expect(lease.startsAt).toBe(grantedAt.toISOString());
    expect(new Date(lease.endsAt).getTime() - grantedAt.getTime()).toBe(2 * 3600_000);
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '90.00',
      held: '10.00',
    });

    // The access is the buyer's alone; the steps are shown to buyer and seller.
    expect(
      (await buyer.client.get<LeaseAccessView>(`/v1/leases/${leaseId}/access`)).body.access,
    ).toEqual(access);
    expect((await seller.client.get(`/v1/leases/${leaseId}/access`)).status).toBe(403);
    const [stored] = (
      await db.query('SELECT access FROM lease_deliveries WHERE lease_id = $1', [leaseId])
    ).rows;
    expect(String(stored.access)).not.toContain('sl-abc');
    const after = await agentApi.get<AgentDeliveryView>('/v1/agents/me/delivery');
    expect(after.body.leases.find((x) => x.leaseId === leaseId)).toMatchObject({
      desired: 'active',
      awaitingAccess: false,
      reported: 'granted',
    });

    // Suspension (as settlement does it) moves the version: the long-poll wakes.
    await db.query(`UPDATE leases SET state = 'suspended' WHERE id = $1`, [leaseId]);
    const susp = await agentApi.get<AgentDeliveryView>(
      `/v1/agents/me/delivery?cursor=${after.body.cursor}&waitSeconds=10`,
    );
    const s = susp.body.leases.find((x) => x.leaseId === leaseId)!;
    expect(s).toMatchObject({ desired: 'suspended', reported: null });
    expect(BigInt(s.version)).toBeGreaterThan(BigInt(l.version));
    expect((await report({ step: 'suspended', version: s.version })).body.recorded).toBe(true);
    await db.query(`UPDATE leases SET state = 'active' WHERE id = $1`, [leaseId]);
    const res = (await agentApi.get<AgentDeliveryView>('/v1/agents/me/delivery')).body.leases.find(
      (x) => x.leaseId === leaseId,
    )!;
    expect(res).toMatchObject({ desired: 'active', reported: null });
    expect((await report({ step: 'resumed', version: res.version })).body.recorded).toBe(true);

    // The buyer cancels: desired ended until the agent reports the revoke, then gone from the view.
    api.clock.set(new Date(api.clock.now().getTime() + 60 * MINUTE));
    expect((await buyer.client.post(`/v1/leases/${leaseId}/cancel`, {})).status).toBe(200);
    const ended = (
      await agentApi.get<AgentDeliveryView>('/v1/agents/me/delivery')
    ).body.leases.find((x) => x.leaseId === leaseId)!;
    expect(ended.desired).toBe('ended');
    expect(
      (await buyer.client.get<LeaseAccessView>(`/v1/leases/${leaseId}/access`)).body.access,
    ).toBeNull();
    expect((await report({ step: 'revoked', version: ended.version })).body.recorded).toBe(true);
    expect(
      (await agentApi.get<AgentDeliveryView>('/v1/agents/me/delivery')).body.leases.some(
        (x) => x.leaseId === leaseId,
      ),
    ).toBe(false);

    const events = (
      await seller.client.get<{ items: LeaseDeliveryEventView[] }>(`/v1/leases/${leaseId}/delivery`)
    ).body.items;
    expect(events.map((e) => e.step)).toEqual([
      'provisioning',
      'granted',
      'suspended',
      'resumed',
      'revoked',
    ]);
    expect(events[1].at).toBe(grantedAt.toISOString());

    // Settlement bills one hour, from the grant (not from the order), and invoices it.
    api.clock.set(new Date(api.clock.now().getTime() + 120 * MINUTE));
    const operator = apiClient(api.url, await api.operatorToken());
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    const invoice = (
      await buyer.client.get<{ items: InvoiceView[] }>('/v1/invoices')
    ).body.items.find((i) => i.leaseId === leaseId)!;
    // The billed hour starts at the grant (the SLA credits the hour back: no heartbeats here).
    expect(invoice).toMatchObject({ subtotal: '10.00', periodStart: grantedAt.toISOString() });
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      held: '0.00',
    });
  });

  it('ends a lease whose access is not reported in time as provisioning_failed: hold released, nothing billed', async () => {
    const { agentApi, buyer, order } = await orderedLease();
    const leaseId = order.body.lease.id;
    const svc = api.app.get(DeliveryService);
    api.clock.set(new Date(api.clock.now().getTime() + 4 * MINUTE));
    expect(await svc.expireOverdue()).toBe(0);
    api.clock.set(new Date(api.clock.now().getTime() + 2 * MINUTE));
    expect(await svc.expireOverdue()).toBe(1);
    expect(await svc.expireOverdue()).toBe(0);
    const lease = (await buyer.client.get<LeaseView>(`/v1/leases/${leaseId}`)).body;
    expect(lease).toMatchObject({ state: 'provisioning_failed', endReason: 'provisioning_failed' });
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      available: '50.00',
      held: '0.00',
    });
    const operator = apiClient(api.url, await api.operatorToken());
    await operator.post('/v1/admin/settlement/run', {});
    expect((await buyer.client.get<{ items: InvoiceView[] }>('/v1/invoices')).body.items).toEqual(
      [],
    );
    // A late grant activates nothing; the agent is told to revoke.
    const v = (await agentApi.get<AgentDeliveryView>('/v1/agents/me/delivery')).body.leases.find(
      (x) => x.leaseId === leaseId,
    )!;
    expect(v.desired).toBe('ended');
    const late = await agentApi.post<{ state: string }>(
      `/v1/agents/me/leases/${leaseId}/delivery`,
      {
        step: 'granted',
        version: v.version,
        access: { kind: 'ssh', host: 'h', port: 22, user: 'u' },
      },
    );
    expect(late.body.state).toBe('provisioning_failed');
    // The Kafka lease event (outbox) says so.
    const { rows } = await db.query(
      `SELECT payload FROM lease_events_outbox WHERE lease_id = $1 ORDER BY id`,
      [leaseId],
    );
    expect(
      rows.map((r: { payload: { type: string; state?: string } }) => [
        r.payload.type,
        r.payload.state,
      ]),
    ).toEqual([['lease.ended', 'provisioning_failed']]);
    // The agent of another resource cannot see or report it.
    const other = await deliveringSeller();
    expect(
      (
        await other.agentApi.post(`/v1/agents/me/leases/${leaseId}/delivery`, {
          step: 'revoked',
          version: v.version,
        })
      ).status,
    ).toBe(404);
  });

  it('an invalid_grant failure ends the lease at once; a resource without delivery starts leases active', async () => {
    const { agentApi, buyer, order } = await orderedLease();
    const v = (await agentApi.get<AgentDeliveryView>('/v1/agents/me/delivery')).body.leases[0];
    const r = await agentApi.post<{ state: string }>(
      `/v1/agents/me/leases/${order.body.lease.id}/delivery`,
      {
        step: 'failed',
        version: v.version,
        code: 'invalid_grant',
        reason: 'no usable SSH key',
      },
    );
    expect(r.body.state).toBe('provisioning_failed');
    expect((await buyer.client.get<WalletView>('/v1/wallet')).body.balances[0]).toMatchObject({
      held: '0.00',
    });

    const plain = await sellerWithOffer(api);
    const b2 = await signUpActor(api, ['buyer']);
    await fundWallet(api, b2.orgId, 'CNY', '50.00');
    const o2 = await b2.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: plain.offer.id,
      slots: 1,
      hours: 1,
    });
    expect(o2.body.lease.state).toBe('active');
  });
});
