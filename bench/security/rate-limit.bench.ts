// Cost of the shared rate limits on the hot path: the same request (`GET /health/live`, the
// cheapest route, so the limiter's share is as large as it gets) through an instance whose
// buckets are in PostgreSQL (one upsert per request) and one whose buckets are in process,
// both on one database, interleaved in rounds so the machine's load drifts equally on both.
//
//   DATABASE_URL=... node --import @swc-node/register/esm-register bench/security/rate-limit.bench.ts
//
// Options (env): BENCH_ROUNDS (5), BENCH_REQUESTS (200 per round and store).
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import { generateSigningKey } from '@suanli/crypto';
import { createApp } from '../../apps/market-api/src/app.factory.js';
import { AppConfig } from '../../apps/market-api/src/config/app-config.js';
import { createTestDatabase } from '../../test/support/db.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;

async function main(): Promise<void> {
  process.env.SETTLEMENT_SCHEDULER = 'off';
  const db = await createTestDatabase();
  const key = await generateSigningKey();
  const apps: INestApplication[] = [];
  const urls: Record<'memory' | 'postgres', string> = { memory: '', postgres: '' };
  try {
    for (const store of ['memory', 'postgres'] as const) {
      const app = await createApp(
        AppConfig.fromEnv({
          DATABASE_URL: db.url,
          KAFKA_BROKERS: process.env.KAFKA_BROKERS,
          PLATFORM_SIGNING_JWK: JSON.stringify({ ...key.privateJwk, kid: key.kid }),
          RATE_LIMIT_STORE: store,
          RATE_LIMIT_IP_BURST: '100000000',
        }),
        { logger: ['error'] },
      );
      await app.listen(0, '127.0.0.1');
      apps.push(app);
      urls[store] = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    }
    const times: Record<'memory' | 'postgres', number[]> = { memory: [], postgres: [] };
    const once = async (url: string): Promise<number> => {
      const t = performance.now();
      const r = await fetch(`${url}/health/live`);
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      return performance.now() - t;
    };
    for (const store of ['memory', 'postgres'] as const) {
      for (let i = 0; i < 50; i++) await once(urls[store]); // warm-up
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const store of ['memory', 'postgres'] as const) {
        for (let i = 0; i < REQUESTS; i++) times[store].push(await once(urls[store]));
      }
    }
    const rows = (['memory', 'postgres'] as const).map((s) => {
      const sorted = [...times[s]].sort((a, b) => a - b);
      return { s, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), n: sorted.length };
    });
    for (const r of rows) {
      console.log(
        `${r.s.padEnd(8)} n=${r.n} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`,
      );
    }
    const [m, p] = rows;
    console.log(
      `postgres - memory: p50 +${(p.p50 - m.p50).toFixed(2)} ms, p99 +${(p.p99 - m.p99).toFixed(2)} ms`,
    );
  } finally {
    for (const app of apps) await app.close();
    await db.drop();
  }
}

await main();
