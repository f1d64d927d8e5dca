import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { generateSigningKey } from '@suanli/crypto';
import { AppConfig } from '../config/app-config.js';
import { FixedClock, type Clock } from '../common/clock.js';
import { createApp } from '../app.factory.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';

jest.setTimeout(90_000);

// Two market-api instances on one database, as behind the load balancer of a real deployment
// (tools/drills): a client spreading its requests over both still gets the limit once.
describe('rate limits shared by two instances on one database', () => {
  let db: TestDatabase;
  const apps: INestApplication[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const key = await generateSigningKey();
    for (let i = 0; i < 2; i++) {
      const config = AppConfig.fromEnv({
        DATABASE_URL: db.url,
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        PLATFORM_SIGNING_JWK: JSON.stringify({ ...key.privateJwk, kid: key.kid }),
        // a trickle: one more token per 1000 s, so the counts below are exact
        RATE_LIMIT_IP_PER_SECOND: '0.001',
        RATE_LIMIT_IP_BURST: '10',
        RATE_LIMIT_API_KEY_PER_SECOND: '0.001',
        RATE_LIMIT_API_KEY_BURST: '4',
        RATE_LIMIT_AUTH_PER_SECOND: '0.001',
        RATE_LIMIT_AUTH_BURST: '3',
        TRUST_PROXY: '1',
        // exact counts: never the per-process fallback, however loaded the machine
        RATE_LIMIT_STORE_TIMEOUT_MS: '10000',
      });
      const app = await createApp(config, {
        clock: new FixedClock(new Date('2026-11-28T10:00:00Z')) as Clock,
        logger: ['error'],
      });
      await app.listen(0, '127.0.0.1');
      apps.push(app);
      urls.push((await app.getUrl()).replace('[::1]', '127.0.0.1'));
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.drop();
  });

  const get = (i: number, ip: string, headers: Record<string, string> = {}) =>
    fetch(`${urls[i % 2]}/health/live`, { headers: { 'x-forwarded-for': ip, ...headers } });

  it('admits the burst once over both instances, then 429 with Retry-After on each', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const r = await get(i, '198.51.100.20');
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429, 429, 429]);
    for (const i of [0, 1]) {
      const r = await get(i, '198.51.100.20');
      expect(r.status).toBe(429);
      // the next token is ~1000 s away
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(900);
      const body = (await r.json()) as { error: { code: string }; correlationId: string };
      expect(body.error.code).toBe('rate_limited');
      expect(body.correlationId).toBeTruthy();
    }
    // another address has its own bucket
    expect((await get(0, '198.51.100.21')).status).toBe(200);
  });

  it('holds the combined limit under concurrency: 60 simultaneous requests, 10 admitted', async () => {
    const rs = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const r = await get(i, '198.51.100.30');
        await r.arrayBuffer();
        return r.status;
      }),
    );
    expect(rs.filter((s) => s === 200)).toHaveLength(10);
    expect(rs.filter((s) => s === 429)).toHaveLength(50);
  });

  it('limits an API key over both instances, whatever address each request comes from', async () => {
    const bearer = { authorization: 'Bearer sk_sharedLimitKeyThatDoesNotExist000000000000' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await get(i, `192.0.2.${i + 1}`, bearer);
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('limits log-in attempts per address over both instances', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${urls[i % 2]}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.40' },
        body: JSON.stringify({ email: 'nobody@suanli.test', password: 'wrong-password' }),
      });
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});
