import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import type { ApiKeyView, CreatedApiKeyView } from '@suanli/contracts';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { AppConfig } from '../config/app-config.js';
import { emailBlindIndex } from '../privacy/blind-index.js';
import type { AuditEventPage } from './audit.contracts.js';
import type { ApiKeyUsePage } from '../api-keys/api-keys.service.js';

jest.setTimeout(90_000);

describe('audit log and API keys', () => {
  let api: TestMarketApi;
  let operator: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    api = await startMarketApi();
    operator = apiClient(api.url, await api.operatorToken());
  });
  afterAll(async () => {
    await api?.close();
  });

  const events = async (query: string) => {
    const r = await operator.get<AuditEventPage>(`/v1/admin/audit-events?${query}`);
    expect(r.status).toBe(200);
    return r.body;
  };

  it('records log-ins, failed ones too, without the password', async () => {
    const seller = await signUpActor(api, ['seller']);
    const login = (password: string) =>
      apiClient(api.url).post('/v1/auth/login', { email: seller.email, password });
    expect((await login(seller.password)).status).toBe(200);
    expect((await login('not-the-password')).status).toBe(401);

    const page = await events(`action=auth.login&orgId=${seller.orgId}`);
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      action: 'auth.login',
      outcome: 'succeeded',
      actor: { orgId: seller.orgId },
      // The address as its blind index only: the audit log outlives an erasure.
      details: { emailIndex: emailBlindIndex(api.app.get(AppConfig).emailIndexKey, seller.email) },
    });
    expect(page.items[0].ip).toBeTruthy();
    expect(page.items[0].correlationId).toBeTruthy();
    const failed = await events('action=auth.login&outcome=failed');
    expect(
      failed.items.some((e) => e.details.emailIndex === page.items[0].details.emailIndex),
    ).toBe(true);
    expect(JSON.stringify(await events('limit=200'))).not.toContain(seller.email);
    expect(JSON.stringify(failed)).not.toContain('not-the-password');
    expect(JSON.stringify(await events('limit=200'))).not.toContain(seller.password);
  });

  it('records key creation and revocation, role changes and fee changes; operators only', async () => {
    const seller = await signUpActor(api, ['seller']);
    const key = await seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
      name: 'collector',
      scopes: ['usage:write'],
    });
    expect(key.status).toBe(201);
    const revoked = await apiClient(api.url, seller.token).get<{ items: ApiKeyView[] }>(
      '/v1/api-keys',
    );
    expect(revoked.status).toBe(200);
    const del = await fetch(`${api.url}/v1/api-keys/${key.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${seller.token}` },
    });
    expect(del.status).toBe(200);
    expect(
      (await operator.post(`/v1/admin/organizations/${seller.orgId}/roles`, { roles: ['buyer'] }))
        .status,
    ).toBeLessThan(300);
    const fees = await fetch(`${api.url}/v1/admin/fees`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${await api.operatorToken()}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ takeRate: '0.06', note: 'audit test' }),
    });
    expect(fees.status).toBeLessThan(300);

    const page = await events(`orgId=${seller.orgId}`);
    const actions = page.items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.signup',
        'api_key.created',
        'api_key.revoked',
        'organization.roles_changed',
      ]),
    );
    const created = page.items.find((e) => e.action === 'api_key.created');
    expect(created?.target).toEqual({ type: 'api_key', id: key.body.id });
    expect(JSON.stringify(page)).not.toContain(key.body.secret);
    const roles = page.items.find((e) => e.action === 'organization.roles_changed');
    expect(roles?.details.granted).toEqual(['buyer']);
    expect((await events('action=fees.changed')).items[0]?.details).toMatchObject({
      request: { takeRate: '0.06' },
    });
    // prefixes and paging
    const keys = await events('action=api_key.&limit=1');
    expect(keys.items).toHaveLength(1);
    expect(keys.nextCursor).toBeTruthy();
    const next = await events(`action=api_key.&limit=1&cursor=${keys.nextCursor}`);
    expect(next.items[0].id).not.toBe(keys.items[0].id);

    expect((await seller.client.get('/v1/admin/audit-events')).status).toBe(403);
  });

  it('API keys: shown once, stored hashed, scoped, every use recorded with its time', async () => {
    const seller = await signUpActor(api, ['seller']);
    const created = await seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
      name: 'ingest',
      scopes: ['usage:write'],
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret;
    expect(secret).toMatch(/^sk_[\w-]{40,}$/);

    // listed without the secret
    const list = await seller.client.get<{ items: Record<string, unknown>[] }>('/v1/api-keys');
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.items[0]).not.toHaveProperty('secret');

    // stored as its hash only
    const db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    try {
      const rows = await db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [
        created.body.id,
      ]);
      expect(JSON.stringify(rows.rows)).not.toContain(secret);
      expect(rows.rows[0].secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    } finally {
      await db.end();
    }

    // usable as a Bearer token where its scope is accepted, and only there
    const send = () =>
      fetch(`${api.url}/v1/usage/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/cloudevents+json',
        },
        body: JSON.stringify({ not: 'an event' }),
      });
    expect((await send()).status).toBe(400); // authenticated, then the event is refused
    expect((await send()).status).toBe(400);
    expect((await apiClient(api.url, secret).get('/v1/me')).status).toBe(401);

    const uses = await seller.client.get<ApiKeyUsePage>(`/v1/api-keys/${created.body.id}/uses`);
    expect(uses.status).toBe(200);
    expect(uses.body.items).toHaveLength(2);
    expect(uses.body.items[0]).toMatchObject({ method: 'POST', path: '/v1/usage/events' });
    expect(uses.body.items[0].usedAt).toBe(api.clock.now().toISOString());
    const page1 = await seller.client.get<ApiKeyUsePage>(
      `/v1/api-keys/${created.body.id}/uses?limit=1`,
    );
    expect(page1.body.nextCursor).toBeTruthy();

    // another organization sees neither the key nor its uses
    const other = await signUpActor(api, ['seller']);
    expect((await other.client.get(`/v1/api-keys/${created.body.id}/uses`)).status).toBe(404);

    // a buyer may not hold a usage-reporting key
    const buyer = await signUpActor(api, ['buyer']);
    expect(
      (await buyer.client.post('/v1/api-keys', { name: 'x', scopes: ['usage:write'] })).status,
    ).toBe(403);

    // revoked: refused
    await fetch(`${api.url}/v1/api-keys/${created.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${seller.token}` },
    });
    expect((await send()).status).toBe(401);
  });
});
