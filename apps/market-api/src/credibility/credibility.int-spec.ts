import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { DataSource } from 'typeorm';
import type {
  AssessorKeyView,
  CredibilityView,
  EvaluationView,
  OfferView,
  OrderView,
} from '@suanli/contracts';
import { generateSigningKey, type JWK, signJws, verifyJws } from '@suanli/crypto';
import { apiClient } from '../../../../test/support/http.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(120_000);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
type ErrorBody = { error: { code: string; details?: Record<string, unknown> } };

let n = 0;
/** An organization the operator admits with the assessor role, logged in. */
async function admitAssessor(api: TestMarketApi, extraRoles: string[] = []) {
  const op = apiClient(api.url, await api.operatorToken());
  const email = `assessor${++n}-${Date.now()}@suanli.test`;
  const password = 'assessor-password-1';
  const created = await op.post<{ organization: { id: string } }>('/v1/admin/organizations', {
    email,
    password,
    displayName: `assessor ${n}`,
    organization: { name: `Assessor lab ${n}`, roles: ['assessor', ...extraRoles], industry: 'M' },
  });
  expect(created.status).toBe(201);
  const login = async () =>
    (await apiClient(api.url).post<{ accessToken: string }>('/v1/auth/login', { email, password }))
      .body.accessToken;
  const token = await login();
  return {
    orgId: created.body.organization.id,
    token,
    client: apiClient(api.url, token),
    login,
  };
}

/** An ES256 (P-256) key pair as JWKs. */
async function p256Key(kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  return { privateJwk: { ...priv, kid, alg: 'ES256' }, publicJwk: { ...pub, kid, alg: 'ES256' } };
}

describe('credibility (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  let db: DataSource;
  let assessor: Awaited<ReturnType<typeof admitAssessor>>;
  let key: Awaited<ReturnType<typeof generateSigningKey>>;
  let market: Awaited<ReturnType<typeof sellerWithOffer>>;
  const nowS = () => Math.floor(api.clock.now().getTime() / 1000);
  const payload = (over: Record<string, unknown> = {}) => ({
    iss: assessor.orgId,
    sub: market.resource.cri,
    iat: nowS(),
    exp: nowS() + 30 * 86400,
    jti: randomUUID(),
    method: 'uptime-probe.v1',
    metrics: { availability: '0.9993', latency_ms_p50: '12' },
    evidence: { uri: 'https://lab.example/report/1', sha256: 'ab'.repeat(32) },
    summary: 'probed every minute for a week',
    ...over,
  });
  const submit = (jws: string, client = assessor.client) =>
    client.post<EvaluationView & ErrorBody>('/v1/evaluations', { jws });

  beforeAll(async () => {
    api = await startMarketApi();
    db = api.app.get(DataSource);
    assessor = await admitAssessor(api);
    key = await generateSigningKey();
    market = await sellerWithOffer(api);
    const reg = await assessor.client.post<AssessorKeyView>('/v1/assessors/me/keys', {
      publicJwk: key.publicJwk,
    });
    expect(reg.status).toBe(201);
  });
  afterAll(async () => {
    await api?.close();
  });

  describe('assessor keys', () => {
    it('registers Ed25519 and P-256 keys, publishes them as JWKS, rotates and retires', async () => {
      const a = await admitAssessor(api);
      const ed = await generateSigningKey();
      const ec = await p256Key('p256-1');
      expect(
        (await a.client.post('/v1/assessors/me/keys', { publicJwk: ed.publicJwk })).status,
      ).toBe(201);
      expect(
        (await a.client.post('/v1/assessors/me/keys', { publicJwk: ec.publicJwk })).status,
      ).toBe(201);
      const jwks = await apiClient(api.url).get<{ keys: JWK[] }>(
        `/v1/assessors/${a.orgId}/jwks.json`,
      );
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys.map((k) => k.kid).sort()).toEqual([ed.kid, 'p256-1'].sort());
      expect(JSON.stringify(jwks.body)).not.toContain('"d"');

      const priv = await a.client.post<ErrorBody>('/v1/assessors/me/keys', {
        publicJwk: ed.privateJwk,
      });
      expect([priv.status, priv.body.error.code]).toEqual([400, 'invalid_jwk']);
      const dup = await a.client.post<ErrorBody>('/v1/assessors/me/keys', {
        publicJwk: ed.publicJwk,
      });
      expect([dup.status, dup.body.error.code]).toEqual([409, 'duplicate_key']);

      // Rotation: a new key, every other active key retired.
      const next = await generateSigningKey();
      const rot = await a.client.post<{ items: AssessorKeyView[] }>(
        '/v1/assessors/me/keys/rotate',
        { publicJwk: next.publicJwk },
      );
      expect(rot.status).toBe(201);
      expect(Object.fromEntries(rot.body.items.map((k) => [k.kid, k.status]))).toEqual({
        [ed.kid]: 'retired',
        'p256-1': 'retired',
        [next.kid]: 'active',
      });
      const after = await apiClient(api.url).get<{ keys: JWK[] }>(
        `/v1/assessors/${a.orgId}/jwks.json`,
      );
      expect(after.body.keys.map((k) => k.kid)).toEqual([next.kid]);

      // A retired key no longer signs evaluations; the P-256 key did while active.
      const retire = await a.client.post<AssessorKeyView>(
        `/v1/assessors/me/keys/${next.kid}/retire`,
        {},
      );
      expect(retire.body.status).toBe('retired');
      const jws = await signJws({ ...payload(), iss: a.orgId, jti: randomUUID() }, ed.privateJwk);
      const refused = await submit(jws, a.client);
      expect([refused.status, refused.body.error.code]).toEqual([422, 'unknown_key']);

      // Only assessors manage keys; JWKS of a non-assessor is not found.
      const buyer = await signUpActor(api, ['buyer']);
      expect(
        (await buyer.client.post('/v1/assessors/me/keys', { publicJwk: next.publicJwk })).status,
      ).toBe(403);
      expect((await apiClient(api.url).get(`/v1/assessors/${buyer.orgId}/jwks.json`)).status).toBe(
        404,
      );
    });

    it('accepts an ES256 evaluation signed with a P-256 key', async () => {
      const a = await admitAssessor(api);
      const ec = await p256Key('p256-live');
      await a.client.post('/v1/assessors/me/keys', { publicJwk: ec.publicJwk });
      const jws = await signJws({ ...payload(), iss: a.orgId }, ec.privateJwk);
      const r = await submit(jws, a.client);
      expect(r.status).toBe(201);
      expect(r.body.kid).toBe('p256-live');
    });
  });

  describe('evaluations', () => {
    it('stores the JWS as received (application/jose), verifiable with the published JWKS', async () => {
      const jws = await signJws(payload(), key.privateJwk);
      const res = await fetch(`${api.url}/v1/evaluations`, {
        method: 'POST',
        headers: { 'content-type': 'application/jose', authorization: `Bearer ${assessor.token}` },
        body: jws,
      });
      expect(res.status).toBe(201);
      const ev = (await res.json()) as EvaluationView;
      expect(ev.jws).toBe(jws);
      expect(ev.status).toBe('active');
      expect(ev.subject).toEqual({
        type: 'resource',
        id: market.resource.id,
        ref: market.resource.cri,
      });
      const stored = await apiClient(api.url).get<EvaluationView>(`/v1/evaluations/${ev.id}`);
      const jwks = await apiClient(api.url).get<{ keys: JWK[] }>(
        `/v1/assessors/${assessor.orgId}/jwks.json`,
      );
      const verified = await verifyJws<{ jti: string }>(stored.body.jws, jwks.body.keys);
      expect(verified.payload.jti).toBe(ev.jti);

      // By handle, and a seller (organization id) as subject.
      const byHandle = await submit(
        await signJws(payload({ sub: market.resource.handle }), key.privateJwk),
      );
      expect(byHandle.status).toBe(201);
      expect(byHandle.body.subject.id).toBe(market.resource.id);
      const seller = await submit(
        await signJws(
          payload({
            sub: market.seller.orgId,
            method: 'security-audit.v1',
            metrics: { security: 'pass' },
          }),
          key.privateJwk,
        ),
      );
      expect(seller.status).toBe(201);
      expect(seller.body.subject.type).toBe('seller');
    });

    it('refuses each faulty evaluation with its own code', async () => {
      const other = await generateSigningKey(key.kid); // same kid, different key
      const expectRefusal = async (jws: string, status: number, code: string) => {
        const r = await submit(jws);
        expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
        return r;
      };
      const sign = (over: Record<string, unknown> = {}) => signJws(payload(over), key.privateJwk);

      await expectRefusal('this-is-not-a-compact-jws', 400, 'invalid_jws');
      await expectRefusal('a.b.c!', 400, 'invalid_jws');
      const noJson = await assessor.client.post<ErrorBody>('/v1/evaluations', { nope: 1 });
      expect(noJson.body.error.code).toBe('validation_failed');
      await expectRefusal(await sign({ jti: undefined }), 400, 'invalid_evaluation');
      await expectRefusal(await sign({ iss: randomUUID() }), 403, 'issuer_mismatch');
      await expectRefusal(
        await signJws(payload(), { ...key.privateJwk, kid: 'no-such-kid' }),
        422,
        'unknown_key',
      );
      await expectRefusal(await signJws(payload(), other.privateJwk), 422, 'bad_signature');
      await expectRefusal(await sign({ iat: nowS() + 3600 }), 422, 'issued_in_future');
      // Within the tolerated skew is fine.
      expect((await submit(await sign({ iat: nowS() + 30 }))).status).toBe(201);
      await expectRefusal(
        await sign({ iat: nowS() - 10 * 86400, exp: nowS() - 60 }),
        422,
        'evaluation_expired',
      );
      // Issue #18: validity is capped (a year and a day), not year 9999.
      await expectRefusal(
        await sign({ exp: Date.UTC(9999, 11, 31) / 1000 }),
        422,
        'validity_too_long',
      );
      await expectRefusal(await sign({ exp: nowS() + 367 * 86400 }), 422, 'validity_too_long');
      await expectRefusal(await sign({ sub: '86.R99.E99999/000001' }), 422, 'unknown_subject');
      await expectRefusal(await sign({ sub: randomUUID() }), 422, 'unknown_subject');
      await expectRefusal(await sign({ method: 'astrology.v1' }), 422, 'unknown_method');

      const once = await sign({ jti: 'replay-me' });
      expect((await submit(once)).status).toBe(201);
      await expectRefusal(once, 409, 'jti_replayed');
      await expectRefusal(await sign({ jti: 'replay-me', iat: nowS() - 5 }), 409, 'jti_replayed');

      // Unauthenticated and non-assessor callers.
      expect((await apiClient(api.url).post('/v1/evaluations', { jws: once })).status).toBe(401);
    });

    it('refuses conflicts of interest: own organization and trading partners within 90 days', async () => {
      // An assessor that is also a seller evaluating itself.
      const selfish = await admitAssessor(api, ['seller']);
      const k = await generateSigningKey();
      await selfish.client.post('/v1/assessors/me/keys', { publicJwk: k.publicJwk });
      const own = await submit(
        await signJws({ ...payload(), iss: selfish.orgId, sub: selfish.orgId }, k.privateJwk),
        selfish.client,
      );
      expect([own.status, own.body.error.code, own.body.error.details?.reason]).toEqual([
        422,
        'conflict_of_interest',
        'own_organization',
      ]);

      // An assessor that bought from the seller: a lease between them.
      const partner = await admitAssessor(api, ['buyer']);
      const pk = await generateSigningKey();
      await partner.client.post('/v1/assessors/me/keys', { publicJwk: pk.publicJwk });
      const target = await sellerWithOffer(api);
      const sign = () =>
        signJws(
          { ...payload(), iss: partner.orgId, sub: target.resource.cri, jti: randomUUID() },
          pk.privateJwk,
        );
      expect((await submit(await sign(), partner.client)).status).toBe(201);
      await fundWallet(api, partner.orgId, 'CNY', '100.00');
      const order = await partner.client.postIdempotent<OrderView>('/v1/orders', {
        offerId: target.offer.id,
        slots: 1,
        hours: 1,
      });
      expect(order.status).toBe(201);
      const traded = await submit(await sign(), partner.client);
      expect([traded.status, traded.body.error.code, traded.body.error.details?.reason]).toEqual([
        422,
        'conflict_of_interest',
        'trading_partner',
      ]);
      // The lease ended 91 days ago: no longer a conflict.
      await db.query(
        `UPDATE leases SET state = 'ended', end_reason = 'completed', ended_at = $2, created_at = $2
          WHERE buyer_org_id = $1`,
        [partner.orgId, new Date(api.clock.now().getTime() - 91 * DAY)],
      );
      expect((await submit(await sign(), partner.client)).status).toBe(201);
    });

    it('revokes (its assessor only); revoked evaluations stay visible as history', async () => {
      const ev = (await submit(await signJws(payload(), key.privateJwk))).body;
      const stranger = await admitAssessor(api);
      const nope = await stranger.client.post<ErrorBody>(`/v1/evaluations/${ev.id}/revoke`, {});
      expect(nope.status).toBe(404);
      const r = await assessor.client.post<EvaluationView>(`/v1/evaluations/${ev.id}/revoke`, {
        reason: 'probe misconfigured',
      });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('revoked');
      expect(r.body.revokeReason).toBe('probe misconfigured');
      const all = await apiClient(api.url).get<{ items: EvaluationView[] }>(
        `/v1/evaluations?assessor=${assessor.orgId}`,
      );
      expect(all.body.items.find((e) => e.id === ev.id)?.status).toBe('revoked');
      const current = await apiClient(api.url).get<{ items: EvaluationView[] }>(
        `/v1/evaluations?assessor=${assessor.orgId}&include=current`,
      );
      expect(current.body.items.some((e) => e.id === ev.id)).toBe(false);
      expect(current.body.items.length).toBeGreaterThan(0);
    });
  });

  describe('scores', () => {
    it('recomputes from telemetry, leases, disputes and evaluations; the evidence alone reproduces it', async () => {
      const t0 = api.clock.now();
      const target = await sellerWithOffer(api);
      const lab = await admitAssessor(api);
      const lk = await generateSigningKey();
      await lab.client.post('/v1/assessors/me/keys', { publicJwk: lk.publicJwk });
      const op = apiClient(api.url, await api.operatorToken());
      expect(
        (await op.post(`/v1/admin/assessors/${lab.orgId}/accreditation`, { level: 3 })).status,
      ).toBe(200);
      const sign = (over: Record<string, unknown>) =>
        signJws(
          { ...payload(), iss: lab.orgId, sub: target.resource.cri, jti: randomUUID(), ...over },
          lk.privateJwk,
        );
      // A claim of 0.99 availability before the leases, later contradicted in part.
      const claim = await submit(await sign({ metrics: { availability: '0.99' } }), lab.client);
      expect(claim.status).toBe(201);
      const afterClaim = await apiClient(api.url).get<CredibilityView>(
        `/v1/credibility/resources/${target.resource.id}`,
      );
      expect(afterClaim.body.breakdown.map((b) => b.kind)).toEqual(['evaluation']);
      expect(afterClaim.body.score).toBeGreaterThan(50);

      // A buyer leases 4 hours; the agent reports online in hours 0, 1 and 3, not in hour 2.
      const buyer = await signUpActor(api, ['buyer']);
      await fundWallet(api, buyer.orgId, 'CNY', '500.00');
      const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
        offerId: target.offer.id,
        slots: 1,
        hours: 4,
      });
      expect(order.status).toBe(201);
      for (const h of [0, 1, 3]) {
        await db.query(
          `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status) VALUES ($1, $2, $3, 'online')`,
          [target.resource.id, new Date(t0.getTime() + h * HOUR + 10 * 60_000), target.agent.id],
        );
      }
      await db.query(
        `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status) VALUES ($1, $2, $3, 'offline')`,
        [target.resource.id, new Date(t0.getTime() + 2 * HOUR + 5 * 60_000), target.agent.id],
      );
      api.clock.advance(4 * HOUR);
      await db.query(
        `UPDATE leases SET state = 'ended', end_reason = 'completed', ended_at = $2 WHERE resource_id = $1`,
        [target.resource.id, api.clock.now()],
      );
      // A second, earlier lease the seller terminated (recorded 10 days ago).
      await db.query(
        `INSERT INTO leases (order_id, offer_id, resource_id, buyer_org_id, seller_org_id, slots, state,
                             starts_at, ends_at, ended_at, end_reason, currency, prices, catalog_version,
                             take_rate, settled_until)
         SELECT gen_random_uuid(), offer_id, resource_id, buyer_org_id, seller_org_id, 1, 'ended',
                $2, $3, $3, 'terminated_by_seller', currency, prices, catalog_version, take_rate, $3
           FROM leases WHERE resource_id = $1 LIMIT 1`,
        [target.resource.id, new Date(t0.getTime() - 11 * DAY), new Date(t0.getTime() - 10 * DAY)],
      );
      api.clock.advance(2 * DAY);
      // An upheld dispute and a second evaluation (bench), then a revoked one.
      expect(
        (
          await op.post('/v1/admin/disputes', {
            sellerOrgId: target.seller.orgId,
            resourceId: target.resource.id,
            outcome: 'upheld',
            note: 'usage overstated',
          })
        ).status,
      ).toBe(201);
      await submit(
        await sign({ method: 'suanli.bench.v1', metrics: { perf_ratio: '0.97' } }),
        lab.client,
      );
      const revoked = await submit(await sign({ metrics: { availability: '0.10' } }), lab.client);
      await lab.client.post(`/v1/evaluations/${revoked.body.id}/revoke`, {});
      api.clock.advance(1 * DAY);
      const recomputed = await op.post<{ resources: number; sellers: number; failed: number }>(
        '/v1/admin/credibility/recompute',
        {},
      );
      expect(recomputed.status).toBe(200);
      expect(recomputed.body.failed).toBe(0);

      const view = (
        await apiClient(api.url).get<CredibilityView>(
          `/v1/credibility/resources/${target.resource.id}`,
        )
      ).body;
      expect(view.formulaVersion).toBe('beta-v1');
      expect(view.computedAt).toBe(api.clock.now().toISOString());
      expect(view.breakdown.map((b) => b.kind).sort()).toEqual([
        'dispute',
        'evaluation',
        'lease',
        'telemetry',
      ]);
      expect(view.history.length).toBeGreaterThanOrEqual(5);
      // The earlier 24-hour lease had no heartbeats: offline throughout.
      expect(
        view.contributions
          .filter((c) => c.kind === 'telemetry')
          .map((c) => c.label)
          .sort(),
      ).toEqual(['0 leased hours online, 24 offline', '3 leased hours online, 1 offline']);

      const evidence = (
        await apiClient(api.url).get<IndependentEvidence & { result: { score: number } }>(
          `/v1/credibility/resources/${target.resource.id}/evidence`,
        )
      ).body;
      expect(evidence.telemetry).toHaveLength(28);
      expect(evidence.evaluations).toHaveLength(3);
      // The evidence carries the signed evaluations: each re-verifies with the assessor's JWKS.
      const jwks = await apiClient(api.url).get<{ keys: JWK[] }>(
        `/v1/assessors/${lab.orgId}/jwks.json`,
      );
      for (const e of evidence.evaluations) await verifyJws(e.jws, jwks.body.keys);
      const mine = recomputeIndependently(evidence);
      expect(mine.score).toBeCloseTo(view.score, 9);
      expect(mine.confidence).toBeCloseTo(view.confidence, 9);
      expect(evidence.result.score).toBeCloseTo(view.score, 9);
      // The claim (0.99) met 3/4 observed: the assessor's weight fell below its base of 1.
      const lw = mine.weights[lab.orgId];
      expect(lw).toBeLessThan(1);
      expect(lw).toBeGreaterThan(0.5);

      // The seller's score covers its resource's evidence too.
      const seller = await apiClient(api.url).get<CredibilityView>(
        `/v1/credibility/sellers/${target.seller.orgId}`,
      );
      expect(seller.status).toBe(200);
      const sellerEvidence = (
        await apiClient(api.url).get<IndependentEvidence>(
          `/v1/credibility/sellers/${target.seller.orgId}/evidence`,
        )
      ).body;
      expect(recomputeIndependently(sellerEvidence).score).toBeCloseTo(seller.body.score, 9);

      // Offers carry the score and can be filtered on it.
      const offer = await apiClient(api.url).get<OfferView>(`/v1/offers/${target.offer.id}`);
      expect(offer.body.credibility?.score).toBeCloseTo(view.score, 9);
      const above = await apiClient(api.url).get<{ items: OfferView[] }>(
        `/v1/offers?minCredibility=${Math.floor(view.score)}`,
      );
      expect(above.body.items.some((o) => o.id === target.offer.id)).toBe(true);
      const tooHigh = await apiClient(api.url).get<{ items: OfferView[] }>(
        `/v1/offers?minCredibility=${Math.ceil(view.score + 0.001)}`,
      );
      expect(tooHigh.body.items.some((o) => o.id === target.offer.id)).toBe(false);
      const bad = await apiClient(api.url).get<ErrorBody>('/v1/offers?minCredibility=101');
      expect(bad.status).toBe(400);

      const formula = await apiClient(api.url).get<{ version: string; halfLifeDays: number }>(
        '/v1/credibility/formula',
      );
      expect(formula.body).toMatchObject({ version: 'beta-v1', halfLifeDays: 30 });
    });

    it('recomputes resources whose leased hours or lease ends are newer than their score', async () => {
      const target = await sellerWithOffer(api);
      const buyer = await signUpActor(api, ['buyer']);
      await fundWallet(api, buyer.orgId, 'CNY', '500.00');
      const start = api.clock.now();
      const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
        offerId: target.offer.id,
        slots: 1,
        hours: 2,
      });
      expect(order.status).toBe(201);
      await db.query(
        `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status) VALUES ($1, $2, $3, 'online')`,
        [target.resource.id, new Date(start.getTime() + 60_000), target.agent.id],
      );
      const op = apiClient(api.url, await api.operatorToken());
      const stale = (scope: string) =>
        op.post<{ resources: number; failed: number }>(
          `/v1/admin/credibility/recompute?scope=${scope}`,
          {},
        );
      // The lease has not run an hour yet: nothing new.
      expect((await stale('stale')).body.resources).toBe(0);
      const before = await apiClient(api.url).get<CredibilityView>(
        `/v1/credibility/resources/${target.resource.id}`,
      );
      expect(before.body.breakdown).toEqual([]);
      expect((await stale('stale')).body.resources).toBe(0);
      api.clock.advance(2 * HOUR);
      expect((await stale('stale')).body.resources).toBe(1);
      const after = await apiClient(api.url).get<CredibilityView>(
        `/v1/credibility/resources/${target.resource.id}`,
      );
      expect(after.body.contributions.map((c) => c.label)).toEqual([
        '1 leased hours online, 1 offline',
      ]);
      expect(after.body.history.length).toBe(before.body.history.length + 1);
    });

    it('answers 404 for unknown subjects', async () => {
      expect(
        (await apiClient(api.url).get(`/v1/credibility/resources/${randomUUID()}`)).status,
      ).toBe(404);
      expect((await apiClient(api.url).get(`/v1/credibility/sellers/${randomUUID()}`)).status).toBe(
        404,
      );
    });
  });
});

// ---------- an independent recomputation, from the published evidence alone ----------

interface IndependentEvidence {
  asOf: string;
  formula: {
    halfLifeDays: number;
    telemetry: { onlineHour: number; offlineHour: number };
    leases: { positive: Record<string, number>; negative: Record<string, number> };
    disputeUpheld: number;
    accreditationWeights: Record<string, number>;
    minAgreementHours: number;
    confidenceK: number;
  };
  telemetry: { hour: string; online: boolean }[];
  leases: { endReason: string | null; endedAt: string | null }[];
  disputes: { outcome: string; decidedAt: string }[];
  evaluations: {
    assessorOrgId: string;
    observations: number;
    metrics: Record<string, string>;
    issuedAt: string;
    expiresAt: string;
    revokedAt: string | null;
    jws: string;
  }[];
  assessors: {
    orgId: string;
    accreditationLevel: number;
    agreements: { claimed: number; observed: number; observedHours: number }[];
  }[];
}

function recomputeIndependently(ev: IndependentEvidence) {
  const f = ev.formula;
  const now = new Date(ev.asOf).getTime();
  const weightAt = (iso: string) => {
    const ageDays = Math.max(0, now - new Date(iso).getTime()) / 86_400_000;
    return 2 ** -(ageDays / f.halfLifeDays);
  };
  let pos = 0;
  let neg = 0;
  for (const h of ev.telemetry) {
    if (h.online) pos += f.telemetry.onlineHour * weightAt(h.hour);
    else neg += f.telemetry.offlineHour * weightAt(h.hour);
  }
  for (const l of ev.leases) {
    if (!l.endReason || !l.endedAt) continue;
    pos += (f.leases.positive[l.endReason] ?? 0) * weightAt(l.endedAt);
    neg += (f.leases.negative[l.endReason] ?? 0) * weightAt(l.endedAt);
  }
  for (const d of ev.disputes)
    if (d.outcome === 'upheld') neg += f.disputeUpheld * weightAt(d.decidedAt);
  const weights: Record<string, number> = {};
  for (const a of ev.assessors) {
    const usable = a.agreements.filter((g) => g.observedHours >= f.minAgreementHours);
    const agree = usable.reduce(
      (t, g) => t + (1 - Math.min(1, Math.abs(g.claimed - g.observed))),
      0,
    );
    const disagree = usable.length - agree;
    weights[a.orgId] =
      ((f.accreditationWeights[String(a.accreditationLevel)] ?? 0) * (agree + 1)) /
      (agree + disagree + 1);
  }
  for (const e of ev.evaluations) {
    const live = e.revokedAt === null && new Date(e.expiresAt).getTime() > now;
    if (!live) continue;
    const qs: number[] = [];
    for (const m of ['availability', 'perf_ratio']) {
      if (e.metrics[m] !== undefined) qs.push(Math.min(1, Math.max(0, Number(e.metrics[m]))));
    }
    if (e.metrics.security === 'pass') qs.push(1);
    if (e.metrics.security === 'fail') qs.push(0);
    if (qs.length === 0) continue;
    const q = qs.reduce((a, b) => a + b) / qs.length;
    const w = e.observations * (weights[e.assessorOrgId] ?? 0) * weightAt(e.issuedAt);
    pos += w * q;
    neg += w * (1 - q);
  }
  return {
    score: (100 * (pos + 1)) / (pos + neg + 2),
    confidence: (pos + neg) / (pos + neg + f.confidenceK),
    weights,
  };
}
