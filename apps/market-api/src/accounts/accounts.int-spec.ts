import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { SessionView } from '@suanli/contracts';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(60_000);

describe('accounts and auth (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  beforeAll(async () => {
    api = await startMarketApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const signUp = (email: string, roles: string[] = ['buyer']) =>
    apiClient(api.url).post<SessionView>('/v1/auth/signup', {
      email,
      password: 'correct horse battery',
      displayName: 'Ada',
      organization: { name: 'Ada Lab', roles, industry: 'M' },
    });

  it('signs up, logs in and issues EdDSA tokens verifiable with the published JWKS', async () => {
    const s = await signUp('ada@lab.test');
    expect(s.status).toBe(201);
    expect(s.body.organization.roles).toEqual(['buyer']);
    const login = await apiClient(api.url).post<SessionView>('/v1/auth/login', {
      email: 'ADA@lab.test',
      password: 'correct horse battery',
    });
    expect(login.status).toBe(200);
    const jwks = await apiClient(api.url).get<{ keys: object[] }>('/.well-known/jwks.json');
    expect(jwks.body.keys).toHaveLength(1);
    expect(JSON.stringify(jwks.body)).not.toContain('"d"');
    const { payload, protectedHeader } = await jwtVerify(
      login.body.accessToken,
      createLocalJWKSet(jwks.body as never),
      { audience: 'suanli-market' },
    );
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload.sub).toBe(login.body.user.id);
    expect(Number(payload.exp) - Number(payload.iat)).toBeLessThanOrEqual(900);
  });

  it('refuses a duplicate e-mail, bad input and wrong passwords with the error envelope', async () => {
    expect((await signUp('dup@lab.test')).status).toBe(201);
    const dup = await signUp('dup@lab.test');
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({
      error: { code: 'conflict' },
      correlationId: expect.any(String),
    });
    const bad = await apiClient(api.url).post<{
      error: { code: string; details: { issues: { path: string }[] } };
    }>('/v1/auth/signup', { email: 'not-an-email', password: 'short' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.details.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['email', 'password', 'displayName']),
    );
    const wrong = await apiClient(api.url).post('/v1/auth/login', {
      email: 'dup@lab.test',
      password: 'nope-nope-nope',
    });
    expect(wrong.status).toBe(401);
    const malformed = await fetch(`${api.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":',
    });
    expect(malformed.status).toBe(400);
  });

  it('rotates refresh tokens: each is good once', async () => {
    const s = await signUp('rot@lab.test');
    const r1 = await apiClient(api.url).post<SessionView>('/v1/auth/refresh', {
      refreshToken: s.body.refreshToken,
    });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(s.body.refreshToken);
    const again = await apiClient(api.url).post('/v1/auth/refresh', {
      refreshToken: s.body.refreshToken,
    });
    expect(again.status).toBe(401);
  });

  it('answers 401 without a valid token and 403 with the wrong role', async () => {
    expect((await apiClient(api.url).get('/v1/me')).status).toBe(401);
    expect((await apiClient(api.url, 'not.a.token').get('/v1/me')).status).toBe(401);
    const buyer = await signUp('roles@lab.test', ['buyer']);
    const asBuyer = apiClient(api.url, buyer.body.accessToken);
    expect((await asBuyer.get('/v1/me')).status).toBe(200);
    const sellerOnly = await asBuyer.post<{ error: { code: string } }>('/v1/resources', {});
    expect(sellerOnly.status).toBe(403);
    expect(sellerOnly.body.error.code).toBe('forbidden');
    expect((await asBuyer.post('/v1/admin/settlement/run', {})).status).toBe(403);
  });

  it('gives sellers a registrant code under the platform prefix', async () => {
    const s = await signUp('seller@lab.test', ['seller']);
    expect(s.body.organization.registrant).toMatch(/^86\.N00\.E[0-9A-Z]{5}$/);
  });
});
