import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { PostgresRateLimitStore } from './rate-limit-store.js';

const limit = { perSecond: 0.001, burst: 2 };
const db = (query: () => Promise<unknown>): DataSource => ({ query }) as unknown as DataSource;

describe('shared rate limits when PostgreSQL does not answer', () => {
  it('falls back to per-process buckets after the timeout, still limiting', async () => {
    const warnings: string[] = [];
    const store = new PostgresRateLimitStore(
      db(() => new Promise(() => undefined)),
      (m) => warnings.push(m),
      50,
    );
    const t = Date.now();
    const takes = [];
    for (let i = 0; i < 3; i++) takes.push((await store.take([{ key: 'ip:a', limit }]))[0]);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(takes.map((x) => x.ok)).toEqual([true, true, false]);
    expect(warnings).toHaveLength(1);
  });

  it('falls back when the query fails', async () => {
    const store = new PostgresRateLimitStore(
      db(() => Promise.reject(new Error('connection refused'))),
      () => undefined,
    );
    const [take] = await store.take([{ key: 'key:k', limit }]);
    expect(take.ok).toBe(true);
  });

  it('answers from the rows of the upsert', async () => {
    const store = new PostgresRateLimitStore(
      db(() =>
        Promise.resolve([
          { key: 'ip:a', allowed: true, retry_after: 1 },
          { key: 'auth:a', allowed: false, retry_after: 7 },
        ]),
      ),
    );
    const takes = await store.take([
      { key: 'ip:a', limit },
      { key: 'auth:a', limit },
    ]);
    expect(takes).toEqual([{ ok: true }, { ok: false, retryAfterSeconds: 7 }]);
  });
});
