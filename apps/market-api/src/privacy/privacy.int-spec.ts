import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
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
import { emailBlindIndex } from './blind-index.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { masterKeysFrom } from '../config/secret-keys.js';
import {
  PrivacyService,
  userFieldName,
  type AccessLogView,
  type BillingProfileView,
} from './privacy.service.js';
import type { PseudonymView } from './pseudonyms.service.js';

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
    // The member's login e-mail and name: ciphertext under the same data key, found by a
    // blind index (HMAC, not the e-mail's plain hash); no plaintext column is left filled.
    const member = async () =>
      (
        (await ds.query(
          `SELECT id, email, display_name, email_index, email_enc, display_name_enc
           FROM users WHERE org_id = $1`,
          [buyerId],
        )) as {
          id: string;
          email: string | null;
          display_name: string | null;
          email_index: string | null;
          email_enc: string;
          display_name_enc: string;
        }[]
      )[0];
    const stored = await member();
    expect(stored).toMatchObject({ email: null, display_name: null });
    expect(stored.email_index).toBe(emailBlindIndex(api.app.get(AppConfig).emailIndexKey, email));
    expect(stored.email_index).not.toBe(createHash('sha256').update(email).digest('hex'));
    expect(stored.email_enc).toMatch(/^v1\./);
    expect(JSON.stringify(stored)).not.toContain('li.na');
    expect(JSON.stringify(stored)).not.toContain('Li Na');
    expect((await buyer.get<{ user: { email: string } }>('/v1/me')).body.user).toMatchObject({
      email,
      displayName: 'Li Na',
    });
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
    // Five billing fields and the member's e-mail and name.
    expect(rot.body).toEqual({ version: 2, fields: 7 });
    const sealedEmail = (await member()).email_enc;
    expect(sealedEmail).toMatch(/^v2\./);
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
    expect(
      (await apiClient(api.url).post('/v1/auth/login', { email, password: 'buyer-password-123' }))
        .status,
    ).toBe(200);

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
    // The e-mail and name: still ciphertext, now unreadable (the key is gone); the blind index
    // is gone too, so log-in cannot find the account and the address is free again.
    const erasedRow = await member();
    expect(erasedRow).toMatchObject({ email: null, display_name: null, email_index: null });
    expect(erasedRow.email_enc).toBe(sealedEmail);
    const privacy = api.app.get(PrivacyService);
    expect(
      await privacy.openFields(ds.manager, buyerId, {
        [userFieldName(erasedRow.id, 'email')]: erasedRow.email_enc,
        [userFieldName(erasedRow.id, 'displayName')]: erasedRow.display_name_enc,
      }),
    ).toEqual({});
    expect(
      JSON.stringify(await ds.query('SELECT * FROM users WHERE org_id = $1', [buyerId])),
    ).not.toContain('li.na');
    // The member's view of itself is blank; its access token, still within its lifetime, is
    // refused now that the organization is erased (docs/security.md, "Sessions").
    expect((await api.app.get(AccountsService).me(erasedRow.id)).user).toMatchObject({
      email: '',
      displayName: '',
    });
    expect((await buyer.get('/v1/me')).status).toBe(401);
    expect((await ds.query('SELECT name FROM organizations WHERE id = $1', [buyerId]))[0]).toEqual({
      name: '(erased)',
    });
    expect(
      (
        await apiClient(api.url).post('/v1/auth/login', {
          email,
          password: 'buyer-password-123',
        })
      ).status,
    ).toBe(401);
    expect((await put('/v1/me/billing-profile', await api.operatorToken(), {})).status).toBe(200);
    const again = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
      email,
      password: 'another-password-123',
      displayName: 'Li Na',
      organization: { name: 'Li Na Again', roles: ['buyer'], industry: 'I' },
    });
    expect(again.status).toBe(201);
    expect(again.body.organization.id).not.toBe(buyerId);

    // The books still balance; the log still verifies, and is consistent across the erasure.
    const tb = await operator.get<TrialBalance>('/v1/admin/ledger/trial-balance');
    expect(tb.body.balanced).toBe(true);
    const keys = (await apiClient(api.url).get<JSONWebKeySet>('/.well-known/jwks.json')).body;
    const sellerView = await seller.client.get<InvoiceView & { transparency: RecordBundle }>(
      `/v1/invoices/${invoice.id}`,
    );
    expect(sellerView.status).toBe(200);
    await verifyRecord(sellerView.body.transparency, keys);

    // Only the platform maps a pseudonym back (to the organization's id; the read is logged):
    // the buyer as this seller saw it, and the seller as assessors and the log name it.
    const asSeller = sellerView.body.buyerOrgId;
    expect(asSeller).toMatch(/^buyer-[0-9a-f]{16}$/);
    const resolve = (query: string) =>
      operator.get<PseudonymView & { error?: { code: string } }>(
        `/v1/admin/privacy/pseudonym?${query}`,
      );
    const mapped = await resolve(
      `pseudonym=${asSeller}&viewer=${seller.orgId}&purpose=${encodeURIComponent('chargeback #7')}`,
    );
    expect(mapped.status).toBe(200);
    expect(mapped.body).toEqual({
      pseudonym: asSeller,
      kind: 'buyer',
      orgId: buyerId,
      viewerOrgId: seller.orgId,
    });
    const [mapLog] = (
      await operator.get<Page<AccessLogView>>(`/v1/admin/privacy/access-log?orgId=${buyerId}`)
    ).body.items.filter((e) => e.purpose === 'chargeback #7');
    expect(mapLog).toMatchObject({ fields: ['pseudonym'], outcome: 'read' });
    // Scoped to the seller: with another viewer it names nobody.
    expect(
      (await resolve(`pseudonym=${asSeller}&viewer=${buyerId}&purpose=chargeback`)).status,
    ).toBe(404);
    expect((await resolve(`pseudonym=${asSeller}&purpose=chargeback`)).status).toBe(400);
    const sellerName = (sellerView.body.transparency.record as { seller: string }).seller;
    expect((await resolve(`pseudonym=${sellerName}&purpose=audit`)).body.orgId).toBe(seller.orgId);
    expect((await resolve('pseudonym=buyer-xyz&purpose=audit')).status).toBe(400);
    expect(
      (await seller.client.get(`/v1/admin/privacy/pseudonym?pseudonym=${sellerName}&purpose=x1`))
        .status,
    ).toBe(403);
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

  it('writes the operator listing of organizations to the access log', async () => {
    const operator = apiClient(api.url, await api.operatorToken());
    const signup = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
      email: `zhao.lei.${Date.now()}@buyer.test`,
      password: 'buyer-password-123',
      displayName: 'Zhao Lei',
      organization: { name: 'Zhao Lei', roles: ['buyer'], industry: 'I' },
    });
    const orgId = signup.body.organization.id;
    const logOf = async (id: string) =>
      (await operator.get<Page<AccessLogView>>(`/v1/admin/privacy/access-log?orgId=${id}`)).body
        .items;
    expect(await logOf(orgId)).toEqual([]);

    const listed = await operator.get<{ items: { id: string; name: string }[] }>(
      '/v1/admin/organizations?role=buyer',
    );
    expect(listed.status).toBe(200);
    expect(listed.body.items.find((o) => o.id === orgId)?.name).toBe('Zhao Lei');
    const [entry] = await logOf(orgId);
    expect(entry).toMatchObject({
      subjectOrgId: orgId,
      purpose: 'organization listing',
      outcome: 'read',
      fields: ['organization.name', 'organization.members'],
    });
    // Every organization shown is logged, with the purpose the operator gives; not the
    // operator's own organization (not another party), nor ones the filter left out.
    const me = (await operator.get<{ organization: { id: string } }>('/v1/me')).body.organization;
    await operator.get(
      `/v1/admin/organizations?q=Zhao&purpose=${encodeURIComponent('KYC review')}`,
    );
    expect((await logOf(orgId)).map((e) => e.purpose).sort()).toEqual([
      'KYC review',
      'organization listing',
    ]);
    await operator.get('/v1/admin/organizations?role=operator');
    expect(await logOf(me.id)).toEqual([]);
    expect(await logOf(orgId)).toHaveLength(2);
    expect((await operator.get('/v1/admin/organizations?purpose=x')).status).toBe(400);
  });
});
