import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import type { OfferView } from '@suanli/contracts';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(120_000);

type ErrorBody = {
  error: { code: string; message: string; details?: Record<string, unknown> };
};

/** `{"a":{"a":…}}` nested `depth` levels. */
function nested(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const issues = (b: ErrorBody) => JSON.stringify(b.error);

// Issue #18, item 5: bad input is a 400 naming the problem, never a 500 and never a saved row.
describe('bad input at the HTTP edge (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  let db: pg.Client;
  const saved = { ...process.env };

  beforeAll(async () => {
    // Test mode (no Stripe key): top-ups are credited at once.
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_WEBHOOK_SECRET;
    api = await startMarketApi();
    db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await api?.close();
    process.env = saved;
  });

  it('refuses a NUL character in a query, a path and names with 400 naming where', async () => {
    const anon = apiClient(api.url);
    const q = await anon.get<ErrorBody>('/v1/offers?q=%00');
    expect(q.status).toBe(400);
    expect(q.body.error).toMatchObject({
      code: 'validation_failed',
      details: { field: 'query.q', reason: 'nul_character' },
    });
    expect((await anon.get<ErrorBody>('/v1/cri/abc%00def')).status).toBe(400);

    const signUp = await anon.post<ErrorBody>('/v1/auth/signup', {
      email: 'nul@suanli.test',
      password: 'nul-password-123',
      displayName: 'Nul',
      organization: { name: 'evil\u0000org', roles: ['buyer'], industry: 'I' },
    });
    expect(signUp.status).toBe(400);
    expect(signUp.body.error.details).toMatchObject({ field: 'body.organization.name' });

    const { seller, resource } = await sellerWithOffer(api);
    const res = await seller.client.post<ErrorBody>('/v1/resources', {
      name: 'node\u0000x',
      class: 'GEN',
      form: 'VM',
      location: { country: 'CN', subdivision: 'BJ', site: 'HD1' },
      spec: { cpu: 8, memGiB: 32 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toMatchObject({ field: 'body.name' });
    const offer = await seller.client.post<ErrorBody>('/v1/offers', {
      resourceId: resource.id,
      title: 'title\u0000',
      currency: 'CNY',
      capacity: 1,
      prices: [{ unit: 'slot_h', price: '1.00' }],
    });
    expect(offer.status).toBe(400);
    expect(offer.body.error.details).toMatchObject({ field: 'body.title' });
  });

  it('refuses JSON nested ~2,000 deep on idempotent routes before anything reads it', async () => {
    const { offer } = await sellerWithOffer(api);
    const buyer = await signUpActor(api, ['buyer']);
    for (const [path, body] of [
      ['/v1/orders', { offerId: offer.id, slots: 1, hours: 1, extra: nested(2000) }],
      ['/v1/wallet/top-ups', { currency: 'CNY', amount: '1.00', extra: nested(2000) }],
      ['/v1/orders', nested(2000)],
    ] as const) {
      const r = await buyer.client.postIdempotent<ErrorBody>(path, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({
        code: 'validation_failed',
        details: { reason: 'too_deep' },
      });
    }
    // Nothing was kept for those keys, nothing was created.
    const keys = await db.query(`SELECT count(*)::int AS n FROM idempotency_keys`);
    const before = keys.rows[0].n as number;
    expect(
      (
        await buyer.client.postIdempotent<ErrorBody>('/v1/wallet/top-ups', {
          currency: 'CNY',
          amount: '1.00',
          extra: nested(40),
        })
      ).status,
    ).toBe(400);
    expect((await db.query(`SELECT count(*)::int AS n FROM idempotency_keys`)).rows[0].n).toBe(
      before,
    );
  });

  it('validates a top-up before saving anything: 29 digits, too many decimals, an unknown currency', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const topUps = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM top_ups WHERE org_id = $1`, [buyer.orgId]))
        .rows[0].n as number;
    for (const body of [
      { currency: 'CNY', amount: '12345678901234567890123456789' },
      { currency: 'CNY', amount: '1000000.00' }, // above one Stripe payment
      { currency: 'CNY', amount: '1.0000000001' },
      { currency: 'XXX', amount: '10.00' },
      { currency: 'ZZZ', amount: '10.00' },
    ]) {
      const r = await buyer.client.postIdempotent<ErrorBody>('/v1/wallet/top-ups', body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
      expect(issues(r.body)).toMatch(/amount|currency/);
    }
    expect(await topUps()).toBe(0);
    const ok = await buyer.client.postIdempotent('/v1/wallet/top-ups', {
      currency: 'EUR',
      amount: '999999.99',
    });
    expect(ok.status).toBe(201);
    expect(await topUps()).toBe(1);
  });

  it('bounds every price and amount by one rule: huge or over-precise prices, bids and credits are 400', async () => {
    const { seller, resource, offer } = await sellerWithOffer(api);
    const base = {
      resourceId: resource.id,
      title: 'bounds',
      currency: 'CNY',
      capacity: 1,
    };
    for (const price of ['1' + '0'.repeat(40), '1e400', '1000000000000', '0.0000000001']) {
      const r = await seller.client.post<ErrorBody>('/v1/offers', {
        ...base,
        prices: [{ unit: 'slot_h', price }],
      });
      expect(r.status).toBe(400);
      expect(issues(r.body)).toContain('prices.0.price');
    }
    const tiered = await seller.client.post<ErrorBody>('/v1/offers', {
      ...base,
      pricingModel: 'tiered',
      prices: [{ unit: 'scu.ai', tiers: [{ upTo: '9'.repeat(30), price: '1' }] }],
    });
    expect(tiered.status).toBe(400);
    const biggest = await seller.client.post<OfferView>('/v1/offers', {
      ...base,
      prices: [{ unit: 'api.call', price: '999999999999.999999999' }],
    });
    expect(biggest.status).toBe(201);
    const edit = await seller.client.patch<ErrorBody>(`/v1/offers/${offer.id}`, {
      prices: [{ unit: 'slot_h', price: '9'.repeat(29) }],
    });
    expect(edit.status).toBe(400);
    const badCurrency = await seller.client.post<ErrorBody>('/v1/offers', {
      ...base,
      currency: 'XXX',
      prices: [{ unit: 'slot_h', price: '1.00' }],
    });
    expect(badCurrency.status).toBe(400);
    expect(issues(badCurrency.body)).toContain('currency');

    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '10.00');
    const operator = apiClient(api.url, await api.operatorToken());
    for (const amount of ['9'.repeat(29), '1.001']) {
      const credit = await operator.postIdempotent<ErrorBody>(
        `/v1/admin/wallets/${buyer.orgId}/credits`,
        { currency: 'CNY', amount },
      );
      expect(credit.status).toBe(400);
    }
    const search = await apiClient(api.url).get<ErrorBody>(`/v1/offers?maxPrice=${'9'.repeat(40)}`);
    expect(search.status).toBe(400);
  });
});
