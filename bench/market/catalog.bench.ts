// Catalog benchmark: 100,000 active offers on 100,000 resources; catalog searches through the
// HTTP API (GET /v1/offers: routing, validation, SQL, offer views with capacity and
// credibility, JSON) next to the catalog's identical SQL (OffersService.catalogSql: the keyset
// page joined to every view column, one statement) run bare in PostgreSQL.
// Goal: API p99 < 30 ms.
//
//   DATABASE_URL=... node --import @swc-node/register/esm-register bench/market/catalog.bench.ts
//
// Options (env): BENCH_OFFERS (100000), BENCH_ROUNDS (50 per query shape).
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { offerSearchSchema } from '@suanli/contracts';
import { OffersService } from '../../apps/market-api/src/offers/offers.service.js';
import { createTestDatabase } from '../../test/support/db.js';
import { startMarketApi } from '../../test/support/market-api.js';

const TOTAL = Number(process.env.BENCH_OFFERS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 50);

const QUERIES = [
  'class=AI&sort=price&limit=50',
  'region=CN-GZ&sort=newest&limit=50',
  'accelerator=H200&minAccelerators=8&sort=price&limit=20',
  'class=GEN&currency=USD&maxPrice=0.05&sort=price&limit=50',
  'availableNow=true&class=HPC&limit=50',
  'q=bench%2012&limit=20',
];

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const api = await startMarketApi({ database: db });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const t0 = performance.now();
    // Set-based data: deterministic spreads of class, region, accelerator and price.
    await client.query(
      `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry, class,
         form, country, subdivision, site, spec, cpu, mem_gib, accel_model, accel_count, state,
         created_at)
       SELECT md5('r' || g)::uuid, '86.N00.E' || lpad(to_hex(g % 1000), 5, '0') || '/' || lpad(to_hex(g), 6, '0'),
         'CRI1:bench:' || g, 'bench ' || g, md5('org' || (g % 1000))::uuid,
         '86.N00.E' || lpad(to_hex(g % 1000), 5, '0'), lpad(to_hex(g), 6, '0'), 'I',
         (ARRAY['AI','AI','GEN','HPC'])[1 + g % 4], (ARRAY['BM','CTR','VM','JOB'])[1 + g % 4],
         'CN', (ARRAY['GZ','BJ','SH','NM','GS'])[1 + g % 5], 'S' || (g % 7),
         CASE WHEN g % 4 < 2
           THEN jsonb_build_object('cpu', 96, 'memGiB', 1024, 'accel',
                  jsonb_build_object('count', (ARRAY[1,2,4,8])[1 + g % 4], 'model', (ARRAY['H200','A100','H20','L40S','MI300X'])[1 + g % 5]))
           ELSE jsonb_build_object('cpu', (ARRAY[8,16,32,64])[1 + g % 4], 'memGiB', 64) END,
         CASE WHEN g % 4 < 2 THEN 96 ELSE (ARRAY[8,16,32,64])[1 + g % 4] END,
         CASE WHEN g % 4 < 2 THEN 1024 ELSE 64 END,
         CASE WHEN g % 4 < 2 THEN (ARRAY['H200','A100','H20','L40S','MI300X'])[1 + g % 5] END,
         CASE WHEN g % 4 < 2 THEN (ARRAY[1,2,4,8])[1 + g % 4] END,
         'schedulable', now() - make_interval(secs => g)
       FROM generate_series(1, $1::int) g`,
      [TOTAL],
    );
    await client.query(
      `INSERT INTO offers (id, resource_id, seller_org_id, title, currency, capacity, pricing_model,
         prices, min_hours, max_hours, accepts_unsigned, status, normalized_unit, normalized_price,
         created_at)
       SELECT md5('o' || g)::uuid, md5('r' || g)::uuid, md5('org' || (g % 1000))::uuid,
         'bench ' || g, CASE WHEN g % 3 = 0 THEN 'USD' ELSE 'CNY' END, 1 + g % 8, 'fixed',
         jsonb_build_array(jsonb_build_object('unit', 'slot_h', 'price', (1 + g % 97)::text || '.00')),
         1, 720, false, 'active',
         (ARRAY['scu.ai','scu.ai','scu.gen','scu.hpc'])[1 + g % 4], ((1 + g % 997) / 100.0)::numeric,
         now() - make_interval(secs => g)
       FROM generate_series(1, $1::int) g`,
      [TOTAL],
    );
    await client.query('ANALYZE');
    const load = performance.now() - t0;
    console.log(`loaded ${TOTAL} resources + offers in ${(load / 1000).toFixed(1)} s`);

    const offers = api.app.get(OffersService);
    const rows: string[] = [];
    const allApi: number[] = [];
    const allSql: number[] = [];
    for (const qs of QUERIES) {
      const q = offerSearchSchema.parse(Object.fromEntries(new URLSearchParams(qs)));
      // The API's one statement (page of ids joined to every view column), bare.
      const [sql, params] = offers.catalogSql(q);
      const apiTimes: number[] = [];
      const sqlTimes: number[] = [];
      for (let i = 0; i < 5; i++) {
        await fetch(`${api.url}/v1/offers?${qs}`).then((r) => r.text());
        await client.query(sql, params);
      }
      for (let i = 0; i < ROUNDS; i++) {
        let t = performance.now();
        const res = await fetch(`${api.url}/v1/offers?${qs}`);
        if (res.status !== 200) throw new Error(`${qs}: HTTP ${res.status} ${await res.text()}`);
        await res.json();
        apiTimes.push(performance.now() - t);
        t = performance.now();
        await client.query(sql, params);
        sqlTimes.push(performance.now() - t);
      }
      apiTimes.sort((a, b) => a - b);
      sqlTimes.sort((a, b) => a - b);
      allApi.push(...apiTimes);
      allSql.push(...sqlTimes);
      rows.push(
        `| \`${qs}\` | ${ms(quantile(apiTimes, 0.5))} | ${ms(quantile(apiTimes, 0.99))} | ${ms(
          quantile(sqlTimes, 0.5),
        )} | ${ms(quantile(sqlTimes, 0.99))} |`,
      );
    }
    allApi.sort((a, b) => a - b);
    allSql.sort((a, b) => a - b);
    console.log('| query | API p50 | API p99 | bare SQL p50 | bare SQL p99 |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const r of rows) console.log(r);
    const p99 = quantile(allApi, 0.99);
    console.log(
      `all: API p50 ${ms(quantile(allApi, 0.5))}, p99 ${ms(p99)}; bare SQL p50 ${ms(
        quantile(allSql, 0.5),
      )}, p99 ${ms(quantile(allSql, 0.99))}; API/SQL p50 ratio ${(
        quantile(allApi, 0.5) / quantile(allSql, 0.5)
      ).toFixed(1)}; goal p99 < 30 ms: ${p99 < 30 ? 'met' : 'NOT met'}`,
    );
    const loadAvg = (await import('node:os')).loadavg();
    console.log(`load average (1/5/15 min): ${loadAvg.map((x) => x.toFixed(2)).join(' / ')}`);
  } finally {
    await client.end();
    await api.close();
  }
}

await main();
