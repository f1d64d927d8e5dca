import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import type { InvoiceView, OrderView, Page, SessionView } from '@suanli/contracts';
import { verifyCheckpointConsistency, verifyRecord, type RecordBundle } from '@suanli/transparency';
import { generateSigningKey, type JSONWebKeySet } from '@suanli/crypto';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { PlatformKeys } from '../auth/platform-keys.js';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import type { TrialBalance } from '../ledger/ledger.service.js';
import { SettlementConfig } from '../settlement/settlement.config.js';
import { SettlementLogConfig } from './settlement-log.config.js';
import { reportOnline } from '../settlement/testing/settlement-fixtures.js';
import {
  SettlementLogService,
  type CheckpointView,
  type LeafView,
} from './settlement-log.service.js';

jest.setTimeout(120_000);

const HOUR = 3_600_000;
let api: TestMarketApi;

beforeAll(async () => {
  api = await startMarketApi();
}, 60_000);

afterAll(async () => {
  await api?.close();
});

/** A buyer whose id, name and e-mail are easy to look for in responses. */
async function distinctiveBuyer(tag: string) {
  const email = `zhang.${tag}.${Date.now()}@buyer-secret.test`;
  const displayName = `Zhang Wei ${tag} Personal`;
  const orgName = `Secret Buyer Org ${tag}`;
  const r = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
    email,
    password: 'buyer-password-123',
    displayName,
    organization: { name: orgName, roles: ['buyer'], industry: 'I' },
  });
  expect(r.status).toBe(201);
  return {
    email,
    displayName,
    orgName,
    orgId: r.body.organization.id,
    token: r.body.accessToken,
    client: apiClient(api.url, r.body.accessToken),
  };
}

/** Orders one slot for `hours` and settles it to its final invoice. */
async function settledLease(
  buyer: { orgId: string; client: ReturnType<typeof apiClient> },
  offerId: string,
  hours = 1,
): Promise<{ leaseId: string; invoice: InvoiceView }> {
  const operator = apiClient(api.url, await api.operatorToken());
  const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
    offerId,
    slots: 1,
    hours,
  });
  expect(order.status).toBe(201);
  const leaseId = order.body.lease.id;
  const ds = api.app.get(DataSource);
  const [{ resource_id: resourceId }] = (await ds.query(
    'SELECT resource_id FROM leases WHERE id = $1',
    [leaseId],
  )) as { resource_id: string }[];
  const start = api.clock.now();
  await reportOnline(ds, resourceId, start, new Date(start.getTime() + hours * HOUR));
  api.clock.advance(hours * HOUR);
  expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
  const invoices = await buyer.client.get<Page<InvoiceView>>('/v1/invoices');
  const invoice = invoices.body.items.find((i) => i.leaseId === leaseId);
  if (!invoice) throw new Error(`no invoice for lease ${leaseId}`);
  return { leaseId, invoice };
}

const jwks = async (): Promise<JSONWebKeySet> =>
  (await apiClient(api.url).get<JSONWebKeySet>('/.well-known/jwks.json')).body;

describe('settlement log', () => {
  it('appends debit notes, invoices and payouts; each invoice verifies offline; checkpoints stay consistent', async () => {
    const operator = apiClient(api.url, await api.operatorToken());
    const { seller, offer } = await sellerWithOffer(api, {
      prices: [{ unit: 'slot_h', price: '60.00' }],
    });
    const buyer = await distinctiveBuyer('log');
    await fundWallet(api, buyer.orgId, 'CNY', '1000.00');

    const first = await settledLease(buyer, offer.id, 2);
    const cp1 = (await apiClient(api.url).get<CheckpointView>('/v1/transparency/checkpoint')).body;
    expect(cp1.treeSize).toBeGreaterThanOrEqual(3); // two debit notes and the invoice

    // The invoice carries its leaf, inclusion proof and checkpoint; it verifies offline.
    const asBuyer = await buyer.client.get<InvoiceView & { transparency: RecordBundle }>(
      `/v1/invoices/${first.invoice.id}`,
    );
    expect(asBuyer.status).toBe(200);
    const bundle = asBuyer.body.transparency;
    expect(bundle.record).toMatchObject({
      type: 'invoice',
      id: first.invoice.id,
      total: '120.00',
      currency: 'CNY',
    });
    const keys = await jwks();
    const verified = await verifyRecord(bundle, keys, {
      now: api.clock.now(),
      maxAgeSeconds: 3600,
    });
    expect(verified.origin).toBe('86.N00/settlement');
    // The seller receives the same leaf (it is pseudonymized for everyone) and it verifies too.
    const asSeller = await seller.client.get<InvoiceView & { transparency: RecordBundle }>(
      `/v1/invoices/${first.invoice.id}`,
    );
    expect(asSeller.body.transparency.leafHash).toBe(bundle.leafHash);
    await verifyRecord(asSeller.body.transparency, keys);
    // Every debit note of the lease is in the log too, and reachable by its parties.
    const notes = await seller.client.get<Page<{ id: string }>>(
      `/v1/leases/${first.leaseId}/debit-notes`,
    );
    expect(notes.body.items).toHaveLength(2);
    for (const n of notes.body.items) {
      const rec = await buyer.client.get<RecordBundle>(
        `/v1/transparency/records/debit_note/${n.id}`,
      );
      expect(rec.status).toBe(200);
      await verifyRecord(rec.body, keys);
    }

    // A payout is appended when it is booked.
    await seller.client.post('/v1/earnings/connect-account', {});
    const payout = await operator.post<{ booked: number }>('/v1/admin/payouts/run', {});
    expect(payout.status).toBe(200);
    const records = await seller.client.get<Page<LeafView>>('/v1/seller/records');
    expect(records.status).toBe(200);
    const kinds = records.body.items.map((r) => r.kind).sort();
    // Seller net 114.00 is above the 100.00 payout minimum: one payout, in the log.
    expect(payout.body.booked).toBe(1);
    expect(kinds).toEqual(['debit_note', 'debit_note', 'invoice', 'payout']);
    const payoutLeaf = records.body.items.find((r) => r.kind === 'payout') as LeafView;
    expect(payoutLeaf.record).toMatchObject({ type: 'payout', amount: '114.00', currency: 'CNY' });
    expect(JSON.stringify(payoutLeaf.record)).not.toContain(seller.orgId);

    // More records, a newer checkpoint: consistent with the older one (the API's proof).
    await settledLease(buyer, offer.id, 1);
    const cp2 = (await apiClient(api.url).get<CheckpointView>('/v1/transparency/checkpoint')).body;
    expect(cp2.treeSize).toBeGreaterThan(cp1.treeSize);
    const proof = await apiClient(api.url).get<{ hashes: string[] }>(
      `/v1/transparency/proofs/consistency?first=${cp1.treeSize}&second=${cp2.treeSize}`,
    );
    expect(proof.status).toBe(200);
    await verifyCheckpointConsistency(
      { first: cp1.jws, second: cp2.jws, hashes: proof.body.hashes },
      keys,
    );
    // The old invoice's proof against the new checkpoint, from the public proof API.
    const inc = await apiClient(api.url).get<{ hashes: string[] }>(
      `/v1/transparency/proofs/inclusion?leafIndex=${bundle.leafIndex}&treeSize=${cp2.treeSize}`,
    );
    await verifyRecord(
      {
        ...bundle,
        inclusionProof: { treeSize: cp2.treeSize, hashes: inc.body.hashes },
        checkpoint: cp2.jws,
      },
      keys,
    );
    expect(
      (await apiClient(api.url).get(`/v1/transparency/checkpoints/${cp1.treeSize}`)).body,
    ).toMatchObject({ jws: cp1.jws });
    expect(
      (await apiClient(api.url).get('/v1/transparency/proofs/inclusion?leafIndex=5&treeSize=2'))
        .status,
    ).toBe(400);
    expect(
      (
        await apiClient(api.url).get(
          `/v1/transparency/proofs/consistency?first=1&second=${cp2.treeSize + 100}`,
        )
      ).status,
    ).toBe(400);
  });
});

describe('who sees what', () => {
  it('never shows a seller the buyer (id, name, e-mail) nor another seller’s records; assessors see bands', async () => {
    const { seller, offer } = await sellerWithOffer(api, {
      prices: [{ unit: 'slot_h', price: '12.34' }],
    });
    const other = await sellerWithOffer(api, { prices: [{ unit: 'slot_h', price: '7.00' }] });
    const buyer = await distinctiveBuyer('access');
    await fundWallet(api, buyer.orgId, 'CNY', '500.00');
    const { leaseId, invoice } = await settledLease(buyer, offer.id, 2);
    await other.beat(); // two hours on, its agent still reports in: online
    await settledLease(buyer, other.offer.id, 1);

    const secrets = [buyer.orgId, buyer.email, buyer.displayName, buyer.orgName];
    const sellerPaths = [
      '/v1/invoices',
      `/v1/invoices/${invoice.id}`,
      `/v1/invoices/${invoice.id}.csv`,
      `/v1/leases`,
      `/v1/leases/${leaseId}`,
      `/v1/leases/${leaseId}/debit-notes`,
      `/v1/leases/${leaseId}/usage`,
      '/v1/seller/records',
      `/v1/transparency/records/invoice/${invoice.id}`,
      '/v1/earnings',
      '/v1/offers/mine',
    ];
    for (const path of sellerPaths) {
      const r = await fetch(`${api.url}${path}`, {
        headers: { authorization: `Bearer ${seller.token}` },
      });
      const text = await r.text();
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
      for (const s of secrets) {
        expect({ path, leaks: text.includes(s) }).toEqual({ path, leaks: false });
      }
    }
    // The seller sees the buyer as a stable pseudonym, different from what another seller sees.
    const mine = await seller.client.get<Page<LeafView>>('/v1/seller/records');
    const theirs = await other.seller.client.get<Page<LeafView>>('/v1/seller/records');
    const buyerAs = (p: Page<LeafView>) =>
      new Set(p.items.map((i) => (i.record as { buyer?: string }).buyer));
    expect(buyerAs(mine.body).size).toBe(1);
    expect([...buyerAs(mine.body)][0]).toMatch(/^buyer-[0-9a-f]{16}$/);
    expect([...buyerAs(theirs.body)][0]).toMatch(/^buyer-[0-9a-f]{16}$/);
    expect([...buyerAs(theirs.body)][0]).not.toBe([...buyerAs(mine.body)][0]);
    // Nor another seller's records: not listed, not readable.
    const myIds = new Set(mine.body.items.map((i) => i.recordId));
    for (const t of theirs.body.items) expect(myIds.has(t.recordId)).toBe(false);
    expect(
      (await other.seller.client.get(`/v1/transparency/records/invoice/${invoice.id}`)).status,
    ).toBe(404);
    expect((await other.seller.client.get(`/v1/invoices/${invoice.id}`)).status).toBe(404);

    // An assessor that evaluated the seller sees its records: pseudonyms, banded amounts only.
    const assessor = await signUpActor(api, ['buyer']);
    const ds = api.app.get(DataSource);
    await ds.query(`UPDATE organizations SET roles = '{assessor}' WHERE id = $1`, [assessor.orgId]);
    const login = await apiClient(api.url).post<{ accessToken: string }>('/v1/auth/login', {
      email: assessor.email,
      password: assessor.password,
    });
    const asAssessor = apiClient(api.url, login.body.accessToken);
    expect((await asAssessor.get<Page<unknown>>('/v1/assessor/records')).body.items).toEqual([]);
    await ds.query(
      `INSERT INTO evaluations (assessor_org_id, jti, kid, subject_type, subject_id, seller_org_id,
         subject_ref, method, payload, jws, issued_at, expires_at)
       VALUES ($1, 'jti-1', 'kid-1', 'seller', $2, $2, 'ref', 'm', '{}', 'x', now(), now() + interval '1 day')`,
      [assessor.orgId, seller.orgId],
    );
    const seen =
      await asAssessor.get<Page<{ kind: string; record: Record<string, unknown> }>>(
        '/v1/assessor/records',
      );
    expect(seen.status).toBe(200);
    expect(seen.body.items.map((i) => i.kind).sort()).toEqual([
      'debit_note',
      'debit_note',
      'invoice',
    ]);
    const text = JSON.stringify(seen.body);
    for (const s of [...secrets, seller.orgId, '12.34', '24.68'])
      expect(text.includes(s)).toBe(false);
    for (const { record } of seen.body.items) {
      expect(record.banded).toBe(true);
      expect(record.lines).toBeUndefined();
      for (const f of ['gross', 'fee', 'net', 'subtotal', 'credits', 'total']) {
        if (f in record) expect(record[f]).toMatch(/^(0|0–1|1(0*)–1(0+))$/);
      }
    }
    const inv = seen.body.items.find((i) => i.kind === 'invoice')?.record;
    expect(inv).toMatchObject({ total: '10–100', buyer: expect.stringMatching(/^buyer-/) });
    expect((await seller.client.get('/v1/assessor/records')).status).toBe(403);
    expect((await asAssessor.get('/v1/seller/records')).status).toBe(403);

    const tb = await apiClient(api.url, await api.operatorToken()).get<TrialBalance>(
      '/v1/admin/ledger/trial-balance',
    );
    expect(tb.body.balanced).toBe(true);
  });
});

describe('credits and key rotation', () => {
  it('appends the SLA credit note of an invoice; checkpoints verify across a key rotation', async () => {
    const { offer } = await sellerWithOffer(api, { prices: [{ unit: 'slot_h', price: '10.00' }] });
    const buyer = await distinctiveBuyer('credit');
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    });
    const operator = apiClient(api.url, await api.operatorToken());
    // The resource reports nothing: availability 0 %, the whole charge is credited back.
    api.clock.advance(HOUR);
    await operator.post('/v1/admin/settlement/run', {});
    const invoice = (await buyer.client.get<Page<InvoiceView>>('/v1/invoices')).body.items.find(
      (i) => i.leaseId === order.body.lease.id,
    ) as InvoiceView;
    expect(invoice.credits).toBe('10.00');
    const credit = await buyer.client.get<RecordBundle>(
      `/v1/transparency/records/credit/${encodeURIComponent(`sla-credit:${invoice.leaseId}`)}`,
    );
    expect(credit.status).toBe(200);
    expect(credit.body.record).toMatchObject({
      type: 'credit',
      reason: 'sla',
      invoice: invoice.id,
      amount: '10.00',
    });
    const keys = await jwks();
    await verifyRecord(credit.body, keys);

    // Rotation: a new platform key signs from now on; the old one is served as retired.
    const ds = api.app.get(DataSource);
    const oldCp = (await apiClient(api.url).get<CheckpointView>('/v1/transparency/checkpoint'))
      .body;
    const next = await generateSigningKey('platform-next');
    const config = AppConfig.fromEnv({
      DATABASE_URL: api.databaseUrl,
      PLATFORM_SIGNING_JWK: JSON.stringify(next.privateJwk),
      PLATFORM_RETIRED_JWKS: JSON.stringify(keys.keys),
    });
    const rotated = new SettlementLogService(
      ds,
      config,
      api.app.get(Clock),
      new SettlementLogConfig({}),
      new SettlementConfig(),
    );
    const newCp = await rotated.checkpoint(0);
    expect(newCp.kid).toBe('platform-next');
    const served = (await PlatformKeys.fromConfig(config)).jwks();
    expect(served.keys.map((k) => k.kid)).toEqual(['platform-next', oldCp.kid]);
    expect(JSON.stringify(served)).not.toContain('"d"');
    const proof = await rotated.consistencyProof(oldCp.treeSize, newCp.treeSize);
    await verifyCheckpointConsistency(
      { first: oldCp.jws, second: newCp.jws, hashes: proof.hashes },
      served,
    );
    // Without the retired key the old checkpoint no longer verifies.
    await expect(
      verifyCheckpointConsistency(
        { first: oldCp.jws, second: newCp.jws, hashes: proof.hashes },
        { keys: [next.publicJwk] },
      ),
    ).rejects.toMatchObject({ code: 'bad_checkpoint' });
  });
});
