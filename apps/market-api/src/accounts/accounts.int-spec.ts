import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import type { SessionView } from '@suanli/contracts';
import { hashPassword } from '@suanli/crypto';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { AppConfig } from '../config/app-config.js';
import { emailBlindIndex } from '../privacy/blind-index.js';
import { AccountsService } from './accounts.service.js';
import { UsersRepository } from './users.repository.js';

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

  it("refuses a seller sign-up that copies an existing seller's name (issue #18)", async () => {
    const sign = (email: string, name: string, roles: string[]) =>
      apiClient(api.url).post<{ error: { code: string; details: { field: string } } }>(
        '/v1/auth/signup',
        {
          email,
          password: 'correct horse battery',
          displayName: 'Mallory',
          organization: { name, roles, industry: 'I' },
        },
      );
    expect((await sign('real@compute.test', 'Pearl River Compute', ['seller'])).status).toBe(201);
    for (const [i, copy] of [
      'Pearl River Compute',
      '  PEARL  river compute ',
      'Ｐｅａｒｌ River Compute',
    ].entries()) {
      const r = await sign(`copy${i}@evil.test`, copy, ['seller', 'buyer']);
      expect({ copy, status: r.status }).toEqual({ copy, status: 409 });
      expect(r.body.error).toMatchObject({
        code: 'conflict',
        details: { field: 'organization.name' },
      });
    }
    // Names are unique per role: a buyer may share it, but may not become that seller later.
    const buyer = await sign('buyer@compute.test', 'Pearl River Compute', ['buyer']);
    expect(buyer.status).toBe(201);
    const orgId = (buyer.body as unknown as SessionView).organization.id;
    // (through the service: an operator here would be a second one for the bootstrap test)
    await expect(api.app.get(AccountsService).grantRoles(orgId, ['seller'])).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
    });
  });

  it('gives sellers a registrant code under the platform prefix', async () => {
    const s = await signUp('seller@lab.test', ['seller']);
    expect(s.body.organization.registrant).toMatch(/^86\.N00\.E[0-9A-Z]{5}$/);
  });

  it('keeps e-mails unique through their blind index, also under concurrent sign-ups', async () => {
    const results = await Promise.all(
      ['Race@Lab.test', 'race@lab.test', 'RACE@lab.test'].map((e) => signUp(e)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const index = emailBlindIndex(api.app.get(AppConfig).emailIndexKey, 'race@lab.test');
    const rows = (await api.app
      .get(DataSource)
      .query('SELECT email, email_enc FROM users WHERE email_index = $1', [index])) as {
      email: string | null;
      email_enc: string;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0].email).toBeNull();
    expect(rows[0].email_enc).not.toContain('race');
  });

  it('encrypts members stored in plaintext before field encryption, at start-up, once', async () => {
    const ds = api.app.get(DataSource);
    const [org] = (await ds.query(
      `INSERT INTO organizations (name, roles, industry) VALUES ('Legacy Co', '{buyer}', 'M')
       RETURNING id`,
    )) as { id: string }[];
    const hash = await hashPassword('legacy password 1');
    await ds.query(
      `INSERT INTO users (email, display_name, password_hash, org_id)
       VALUES ('old.timer@legacy.test', 'Old Timer', $1, $2)`,
      [hash, org.id],
    );
    const login = () =>
      apiClient(api.url).post<SessionView>('/v1/auth/login', {
        email: 'Old.Timer@legacy.test',
        password: 'legacy password 1',
      });
    expect((await login()).status).toBe(401);
    // What the market API runs in onApplicationBootstrap.
    expect(await api.app.get(UsersRepository).backfillPlaintext()).toBe(1);
    expect(await api.app.get(UsersRepository).backfillPlaintext()).toBe(0);
    const rows = (await ds.query(
      'SELECT email, display_name, email_index, email_enc FROM users WHERE org_id = $1',
      [org.id],
    )) as Record<string, string | null>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: null, display_name: null });
    expect(rows[0].email_index).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toMatch(/old\.timer|Old Timer/i);
    const session = await login();
    expect(session.status).toBe(200);
    expect(session.body.user).toMatchObject({
      email: 'old.timer@legacy.test',
      displayName: 'Old Timer',
    });
    expect((await signUp('OLD.TIMER@legacy.test')).status).toBe(409);
  });

  it('creates the bootstrap operator once, found again by its e-mail', async () => {
    process.env.BOOTSTRAP_OPERATOR_EMAIL = 'Boot.Op@suanli.test';
    process.env.BOOTSTRAP_OPERATOR_PASSWORD = 'bootstrap-password-1';
    try {
      const accounts = api.app.get(AccountsService);
      await accounts.onApplicationBootstrap();
      await accounts.onApplicationBootstrap();
    } finally {
      delete process.env.BOOTSTRAP_OPERATOR_EMAIL;
      delete process.env.BOOTSTRAP_OPERATOR_PASSWORD;
    }
    const login = await apiClient(api.url).post<SessionView>('/v1/auth/login', {
      email: 'boot.op@suanli.test',
      password: 'bootstrap-password-1',
    });
    expect(login.status).toBe(200);
    expect(login.body.organization.roles).toEqual(['operator']);
    expect(login.body.user.email).toBe('boot.op@suanli.test');
    const [{ n }] = (await api.app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM organizations WHERE 'operator' = ANY(roles)`)) as {
      n: number;
    }[];
    expect(n).toBe(1);
  });
});
