import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { generateSigningKey } from '@suanli/crypto';
import { AppConfig } from '../config/app-config.js';
import { FixedClock, type Clock } from '../common/clock.js';
import { createApp } from '../app.factory.js';
import { DOCUMENT_FILE } from '../openapi/document-file.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { scrapeMetrics } from '../../../../test/support/metrics.js';
import { launchChromium } from '../../../../test/support/browser.js';

jest.setTimeout(90_000);

describe('the HTTP edge with the default configuration', () => {
  let api: TestMarketApi;

  beforeAll(async () => {
    api = await startMarketApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('sends security headers on every answer', async () => {
    for (const path of ['/v1/offers', '/v1/me', '/health/live']) {
      const r = await fetch(`${api.url}${path}`);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-powered-by')).toBeNull();
      // plain http here: no HSTS
      expect(r.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it("allows CORS from the storefront's origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${api.url}/v1/orders`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      });
    const ok = await preflight('http://localhost:3000');
    expect(ok.status).toBeLessThan(300);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(ok.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${api.url}/v1/offers`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses unknown fields in bodies, nested objects and queries (400, naming them)', async () => {
    const r = await fetch(`${api.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'strict@suanli.test',
        password: 'strict-password-1',
        displayName: 'Strict',
        organization: { name: 'Strict', roles: ['buyer'], isOperator: true },
        roles: ['operator'],
      }),
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as {
      error: { code: string; details: { issues: { path: string; message: string }[] } };
    };
    expect(body.error.code).toBe('validation_failed');
    const messages = body.error.details.issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        ': unknown field(s): roles',
        'organization: unknown field(s): isOperator',
      ]),
    );
    const q = await fetch(`${api.url}/v1/offers?limit=5&admin=true`);
    expect(q.status).toBe(400);
  });

  it('refuses times PostgreSQL cannot store with 400, not 500 (found by the fuzzer)', async () => {
    const token = await api.operatorToken();
    const get = (path: string) =>
      fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const id = '3f6c2a4e-8b1d-4c3e-9a7f-2d5b8e1c0a94';
    for (const path of [
      `/v1/resources/${id}/usage?to=6278-01-30T05%3A14%3A40-22%3A17&granularity=hour`,
      `/v1/resources/${id}/usage?from=0000-01-01T00%3A00%3A00Z`,
      '/v1/admin/audit-events?from=0000-01-01T00%3A00%3A00Z',
    ]) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
    }
    expect(
      (await get(`/v1/resources/${id}/usage?to=2026-11-28T08%3A00%3A00%2B15%3A59`)).status,
    ).toBe(404);
  });

  it('refuses a body over the limit with 413 in the error envelope', async () => {
    const r = await fetch(`${api.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(1_100_000) }),
    });
    expect(r.status).toBe(413);
    const body = (await r.json()) as { error: { code: string }; correlationId: string };
    expect(body.error.code).toBe('validation_failed');
    expect(body.correlationId).toBeTruthy();
  });

  // Issue #18, item 8: /metrics was public.
  it('serves /metrics to the scraper only: 401 without the bearer scrape token', async () => {
    const anonymous = await fetch(`${api.url}/metrics`);
    expect(anonymous.status).toBe(401);
    const body = await anonymous.text();
    expect(body).not.toContain('suanli_');
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'unauthenticated' } });
    for (const authorization of ['Bearer wrong-scrape-token', 'test-metrics-scrape-token']) {
      expect((await fetch(`${api.url}/metrics`, { headers: { authorization } })).status).toBe(401);
    }
    const scraped = await scrapeMetrics(api.url);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await scraped.text()).toContain('suanli_http_request_duration_seconds');
  });

  it('serves the committed OpenAPI document and renders it with the bundled Redoc', async () => {
    const doc = await fetch(`${api.url}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(await doc.json()).toEqual(JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')));
    const page = await fetch(`${api.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    // scripts from this origin only: no inline script, no eval, no CDN
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('<script src="docs/redoc.standalone.js"></script>');
    const script = await fetch(`${api.url}/docs/redoc.standalone.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect((await script.text()).length).toBeGreaterThan(500_000);

    // a browser renders the reference from it, loading nothing from another origin
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      // answers from another origin (Redoc's own "powered by" logo is refused by the CSP)
      const elsewhere: string[] = [];
      tab.on('response', (r) => {
        if (!r.url().startsWith(api.url) && !/^(data|blob):/.test(r.url())) elsewhere.push(r.url());
      });
      await tab.goto(`${api.url}/docs`);
      await tab
        .getByRole('heading', { name: 'Order a lease' })
        .first()
        .waitFor({ timeout: 60_000 });
      expect(await tab.getByText('Suanli Exchange API').first().isVisible()).toBe(true);
      expect(elsewhere).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('rate limits', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const key = await generateSigningKey();
    const config = AppConfig.fromEnv({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      PLATFORM_SIGNING_JWK: JSON.stringify({ ...key.privateJwk, kid: key.kid }),
      PUBLIC_URL: 'https://exchange.example',
      // a trickle: bursts of 5 (3 on log-in), one more token per 100 s
      RATE_LIMIT_IP_PER_SECOND: '0.01',
      RATE_LIMIT_IP_BURST: '8',
      RATE_LIMIT_API_KEY_PER_SECOND: '0.01',
      RATE_LIMIT_API_KEY_BURST: '2',
      RATE_LIMIT_AUTH_PER_SECOND: '0.01',
      RATE_LIMIT_AUTH_BURST: '3',
      TRUST_PROXY: '1',
    });
    app = await createApp(config, {
      clock: new FixedClock(new Date('2026-11-28T10:00:00Z')) as Clock,
      logger: ['error'],
    });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const from = (ip: string, init: RequestInit = {}) => ({
    ...init,
    headers: { 'x-forwarded-for': ip, ...(init.headers as Record<string, string>) },
  });

  it('limits log-in attempts per address with 429 and Retry-After', async () => {
    const login = () =>
      fetch(
        `${url}/v1/auth/login`,
        from('203.0.113.7', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'nobody@suanli.test', password: 'wrong-password' }),
        }),
      );
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await login()).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const r = await login();
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await r.json()) as { error: { code: string } };
    expect(body.error.code).toBe('rate_limited');
    // another address is not affected
    expect((await fetch(`${url}/v1/offers`, from('203.0.113.8'))).status).toBe(200);
  });

  it('limits each address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      statuses.push((await fetch(`${url}/v1/offers`, from('198.51.100.1'))).status);
    }
    expect(statuses.slice(0, 8).every((s) => s === 200)).toBe(true);
    expect(statuses[8]).toBe(429);
  });

  it('limits each API key, whatever address it comes from', async () => {
    const call = (ip: string) =>
      fetch(
        `${url}/v1/usage/events`,
        from(ip, {
          method: 'POST',
          headers: {
            authorization: 'Bearer sk_thisKeyDoesNotExistButIsLimitedAnyway0000000',
            'content-type': 'application/cloudevents+json',
          },
          body: '{}',
        }),
      );
    expect((await call('192.0.2.1')).status).toBe(401);
    expect((await call('192.0.2.2')).status).toBe(401);
    const third = await call('192.0.2.3');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('has no /metrics without a scrape token configured (404)', async () => {
    const r = await fetch(`${url}/metrics`, from('203.0.113.77'));
    expect(r.status).toBe(404);
    expect(await r.text()).not.toContain('suanli_');
  });

  it('sends HSTS when served over https', async () => {
    const r = await fetch(`${url}/health/live`, from('192.0.2.50'));
    expect(r.headers.get('strict-transport-security')).toContain('max-age=');
  });

  it('a sign-up still works under the limits (fresh address)', async () => {
    const r = await fetch(
      `${url}/v1/auth/signup`,
      from('192.0.2.99', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: 'limited@suanli.test',
          password: 'limited-password-1',
          displayName: 'Limited',
          organization: { name: 'Limited', roles: ['buyer'] },
        }),
      }),
    );
    expect(r.status).toBe(201);
  });
});
