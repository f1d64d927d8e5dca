import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { InvoiceView, OrderView, Page, SessionView } from '@suanli/contracts';
import type { JSONWebKeySet } from '@suanli/crypto';
import { verifyCheckpointConsistency, verifyRecord, type RecordBundle } from '@suanli/transparency';
import { fundWallet, sellerWithOffer } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import type { TrialBalance } from '../ledger/ledger.service.js';
import { reportOnline } from '../settlement/testing/settlement-fixtures.js';
import type { CheckpointView } from '../settlement-log/settlement-log.service.js';
import { masterKeysFrom } from './master-keys.js';
import { PrivacyService, type AccessLogView, type BillingProfileView } from './privacy.service.js';

jest.setTimeout(120_000);
const HOUR = 3_600_000;
let api: TestMarketApi;

beforeAll(async () => {
  api = await startMarketApi();
}, 60_000);

afterAll(async () => {
  await api?.close();
});

async function put<T>(path: string, token: string, body: unknown) {
  const r = await fetch(`${api.url}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as T };
}

const PROFILE = {
  legalName: 'Li Na Trading Co.',
  billingEmail: 'li.na.billing@example-secret.test',
  address: '88 Century Avenue, Pudong, Shanghai',
  taxId: '91310000MA1FL0000X',
  stripeCustomerId: 'cus_SecretCustomer01',
};

describe('personal data', () => {
  it('encrypts each field, logs operator reads, rotates keys and crypto-shreds on erasure', async () => {
    const operator = apiClient(api.url, await api.operatorToken());
    const email = `li.na.${Date.now()}@buyer-secret.test`;
    const signup = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
      email,
      password: 'buyer-password-123',
      displayName: 'Li Na',
      organization: { name: 'Li Na Trading', roles: ['buyer'], industry: 'I' },
    });
    const buyerId = signup.body.organization.id;
    const buyer = apiClient(api.url, signup.body.accessToken);

    const saved = await put<BillingProfileView>(
      '/v1/me/billing-profile',
      signup.body.accessToken,
      PROFILE,
    );
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ ...PROFILE, shredded: false });
    expect(
      (await put('/v1/me/billing-profile', signup.body.accessToken, { taxId: '', x: 1 })).status,
    ).toBe(400);

    // At rest: ciphertext only, one AES-256-GCM value per field, under a wrapped data key.
    const ds = api.app.get(DataSource);
    const [row] = (await ds.query(
      'SELECT fields::text AS f FROM org_personal_data WHERE org_id = $1',
      [buyerId],
    )) as { f: string }[];
    for (const v of Object.values(PROFILE)) expect(row.f).not.toContain(v);
    expect(Object.keys(JSON.parse(row.f) as object).sort()).toEqual(Object.keys(PROFILE).sort());
    const keysBefore = (await ds.query(
      'SELECT version, master_key_id, wrapped_key FROM org_data_keys WHERE org_id = $1',
      [buyerId],
    )) as { version: number; master_key_id: string; wrapped_key: string }[];
    expect(keysBefore).toHaveLength(1);
    expect(keysBefore[0].master_key_id).toBe('dev-1');

    // An operator's read needs a purpose and is logged; others may not read at all.
    expect((await operator.get(`/v1/admin/organizations/${buyerId}/billing-profile`)).status).toBe(
      400,
    );
    const read = await operator.get<BillingProfileView>(
      `/v1/admin/organizations/${buyerId}/billing-profile?purpose=${encodeURIComponent('tax invoice query #42')}`,
    );
    expect(read.status).toBe(200);
    expect(read.body.taxId).toBe(PROFILE.taxId);
    expect(
      (await buyer.get(`/v1/admin/organizations/${buyerId}/billing-profile?purpose=xyz`)).status,
    ).toBe(403);
    const log = await operator.get<Page<AccessLogView>>(
      `/v1/admin/privacy/access-log?orgId=${buyerId}`,
    );
    expect(log.body.items).toHaveLength(1);
    expect(log.body.items[0]).toMatchObject({
      subjectOrgId: buyerId,
      purpose: 'tax invoice query #42',
      outcome: 'read',
      fields: Object.keys(PROFILE),
    });
    expect((await operator.get('/v1/admin/privacy/access-log?orgId=not-a-uuid')).status).toBe(400);
    // Reading one's own data is not an operator read: not logged.
    expect((await buyer.get<BillingProfileView>('/v1/me/billing-profile')).body).toEqual({
      ...PROFILE,
      shredded: false,
    });

    // Data-key rotation: re-encrypted under version 2, the old key gone.
    const rot = await operator.post<{ version: number; fields: number }>(
      `/v1/admin/organizations/${buyerId}/data-key/rotate`,
      {},
    );
    expect(rot.body).toEqual({ version: 2, fields: 5 });
    expect(
      (
        (await ds.query('SELECT version FROM org_data_keys WHERE org_id = $1', [buyerId])) as {
          version: number;
        }[]
      ).map((r) => r.version),
    ).toEqual([2]);
    expect((await buyer.get<BillingProfileView>('/v1/me/billing-profile')).body.legalName).toBe(
      PROFILE.legalName,
    );

    // Master-key rotation: a new master first, the old one kept to unwrap; rewrap; old dropped.
    const newMaster = `m2:${randomBytes(32).toString('base64')}`;
    const oldMaster = 'dev-1:ZGV2LW9ubHktbWFzdGVyLWtleS0zMi1ieXRlcyEhISE=';
    const config = (keys: string) =>
      ({ privacyMasterKeys: masterKeysFrom(keys, 'test') }) as unknown as AppConfig;
    const rotating = new PrivacyService(
      ds,
      config(`${newMaster},${oldMaster}`),
      api.app.get(Clock),
    );
    const rewrapped = await rotating.rewrapDataKeys();
    expect(rewrapped.masterKeyId).toBe('m2');
    expect(rewrapped.rewrapped).toBeGreaterThanOrEqual(1);
    const onlyNew = new PrivacyService(ds, config(newMaster), api.app.get(Clock));
    expect((await onlyNew.ownBillingProfile(buyerId)).taxId).toBe(PROFILE.taxId);
    // Back to the running app's master key for the rest of the test.
    await new PrivacyService(
      ds,
      config(`${oldMaster},${newMaster}`),
      api.app.get(Clock),
    ).rewrapDataKeys();
    expect(() => masterKeysFrom(undefined, 'production')).toThrow(/PRIVACY_MASTER_KEYS/);
    expect(() => masterKeysFrom('k:c2hvcnQ=', 'production')).toThrow(/32 bytes/);

    // The buyer trades: settled records in the log, then the organization is erased.
    const { seller, offer } = await sellerWithOffer(api, {
      prices: [{ unit: 'slot_h', price: '8.00' }],
    });
    await fundWallet(api, buyerId, 'CNY', '100.00');
    const order = await buyer.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    });
    expect(order.status).toBe(201);
    const [{ resource_id: resourceId }] = (await ds.query(
      'SELECT resource_id FROM leases WHERE id = $1',
      [order.body.lease.id],
    )) as { resource_id: string }[];
    await reportOnline(ds, resourceId, api.clock.now(), new Date(api.clock.now().getTime() + HOUR));
    api.clock.advance(HOUR);
    await operator.post('/v1/admin/settlement/run', {});
    const invoice = (await buyer.get<Page<InvoiceView>>('/v1/invoices')).body.items[0];
    const before = (await apiClient(api.url).get<CheckpointView>('/v1/transparency/checkpoint'))
      .body;

    const erased = await operator.post<{ shreddedKeys: number }>(
      `/v1/admin/organizations/${buyerId}/erase`,
      {},
    );
    expect(erased.status).toBe(200);
    expect(erased.body.shreddedKeys).toBe(1);
    // Personal data unreadable, for anyone; the read is still logged.
    const after = await operator.get<BillingProfileView>(
      `/v1/admin/organizations/${buyerId}/billing-profile?purpose=audit`,
    );
    expect(after.body).toEqual({ shredded: true });
    const log2 = await operator.get<Page<AccessLogView>>(
      `/v1/admin/privacy/access-log?orgId=${buyerId}`,
    );
    expect(log2.body.items[0]).toMatchObject({ outcome: 'shredded', purpose: 'audit' });
    const [k] = (await ds.query(
      'SELECT wrapped_key, shredded_at FROM org_data_keys WHERE org_id = $1',
      [buyerId],
    )) as { wrapped_key: string | null; shredded_at: Date | null }[];
    expect(k.wrapped_key).toBeNull();
    expect(k.shredded_at).not.toBeNull();
    const users = (await ds.query('SELECT email, display_name FROM users WHERE org_id = $1', [
      buyerId,
    ])) as { email: string; display_name: string }[];
    expect(users[0].email).not.toContain('li.na');
    expect(users[0].display_name).toBe('');
    expect(
      (
        await apiClient(api.url).post('/v1/auth/login', {
          email,
          password: 'buyer-password-123',
        })
      ).status,
    ).toBe(401);
    expect((await put('/v1/me/billing-profile', await api.operatorToken(), {})).status).toBe(200);

    // The books still balance; the log still verifies, and is consistent across the erasure.
    const tb = await operator.get<TrialBalance>('/v1/admin/ledger/trial-balance');
    expect(tb.body.balanced).toBe(true);
    const keys = (await apiClient(api.url).get<JSONWebKeySet>('/.well-known/jwks.json')).body;
    const sellerView = await seller.client.get<InvoiceView & { transparency: RecordBundle }>(
      `/v1/invoices/${invoice.id}`,
    );
    expect(sellerView.status).toBe(200);
    await verifyRecord(sellerView.body.transparency, keys);
    api.clock.advance(HOUR);
    await operator.post('/v1/admin/settlement/run', {});
    const later = (await apiClient(api.url).get<CheckpointView>('/v1/transparency/checkpoint'))
      .body;
    const proof = await apiClient(api.url).get<{ hashes: string[] }>(
      `/v1/transparency/proofs/consistency?first=${before.treeSize}&second=${later.treeSize}`,
    );
    await verifyCheckpointConsistency(
      { first: before.jws, second: later.jws, hashes: proof.body.hashes },
      keys,
    );
  });
});
