// Registry search benchmark: 100,000 registered resources; the same search queries through the
// HTTP API (GET /v1/resources/search: routing, validation, SQL, mapping, JSON) and directly in
// PostgreSQL (the identical SQL text and parameters the service builds). Goal: API p99 < 20 ms.
//
//   DATABASE_URL=... node --import @swc-node/register/esm-register bench/registry/search.bench.ts
//
// Options (env): BENCH_RESOURCES (100000), BENCH_ROUNDS (50 per query shape).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { resourceSearchSchema, type ResourceSearchPage } from '@suanli/contracts';
import { formatCri, serialFromNumber } from '@suanli/cri';
import { buildResourceSearch } from '../../apps/market-api/src/registry/resource-search.js';
import { createTestDatabase } from '../../test/support/db.js';
import { startMarketApi } from '../../test/support/market-api.js';

const TOTAL = Number(process.env.BENCH_RESOURCES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 50);
const REGISTRANTS = 200;

const SITES = [
  ['CN', 'GZ', 'GA1'],
  ['CN', 'GZ', 'GB2'],
  ['CN', 'BJ', 'HD1'],
  ['CN', 'SH', 'PD1'],
  ['CN', 'NM', 'WLC'],
  ['CN', 'GS', 'QY1'],
  ['CN', 'GZ', 'NS3'],
  ['SG', '01', 'A'],
] as const;
const MODELS = ['H200', 'H100', 'A100', 'MI300X', 'ASCEND910B'] as const;
const INDUSTRIES = ['I', 'M', 'C', 'J', 'P'] as const;
const STATES = ['prepared', 'connected', 'schedulable', 'running', 'retired'] as const;

// Deterministic pseudo-random numbers (mulberry32), so every run measures the same data.
let seed = 42;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const api = await startMarketApi({ database: db });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const now = api.clock.now();
    // ---- data: generated in JS (valid CRIs), inserted set-based with unnest, 10,000 per statement
    const t0 = performance.now();
    const cols = {
      handle: [] as string[],
      cri: [] as string[],
      name: [] as string[],
      owner: [] as string[],
      registrant: [] as string[],
      serial: [] as string[],
      industry: [] as string[],
      cls: [] as string[],
      form: [] as string[],
      country: [] as string[],
      subdivision: [] as string[],
      site: [] as string[],
      spec: [] as string[],
      cpu: [] as (number | null)[],
      mem: [] as (number | null)[],
      model: [] as (string | null)[],
      count: [] as (number | null)[],
      state: [] as string[],
      hb: [] as (string | null)[],
      created: [] as string[],
    };
    const owners = Array.from({ length: REGISTRANTS }, () => randomUUID());
    const next = new Array<number>(REGISTRANTS).fill(1);
    const flush = async (): Promise<void> => {
      if (cols.handle.length === 0) return;
      await client.query(
        `INSERT INTO resources (handle, cri, name, owner_org_id, registrant, serial, industry, class, form,
           country, subdivision, site, spec, cpu, mem_gib, accel_model, accel_count, state,
           last_heartbeat_at, created_at, capacity_slots, revision)
         SELECT h, c, n, o, rg, s, i, cl, f, co, sd, si, sp::jsonb, cp, m, am, ac, st, hb, cr, 1, 1
           FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
             $14::int[], $15::int[], $16::text[], $17::int[], $18::text[], $19::timestamptz[],
             $20::timestamptz[])
             AS t(h, c, n, o, rg, s, i, cl, f, co, sd, si, sp, cp, m, am, ac, st, hb, cr)`,
        Object.values(cols),
      );
      for (const v of Object.values(cols)) v.length = 0;
    };
    for (let k = 0; k < TOTAL; k++) {
      const ri = Math.floor(rnd() * REGISTRANTS);
      const entity = `E${(ri + 1).toString(36).toUpperCase().padStart(5, '0')}`;
      const registrant = `86.N00.${entity}`;
      const serial = serialFromNumber(next[ri]!);
      next[ri]! += 1;
      const [country, subdivision, site] = pick(SITES);
      const klass = rnd() < 0.5 ? 'AI' : rnd() < 0.6 ? 'GEN' : 'HPC';
      const form =
        klass === 'AI'
          ? pick(['BM', 'CTR', 'VM'] as const)
          : klass === 'HPC'
            ? 'JOB'
            : pick(['VM', 'CTR', 'API'] as const);
      const cpu = pick([4, 8, 16, 32, 48, 64, 96, 128, 192]);
      const memGiB = cpu * pick([2, 4, 8, 16]);
      const accel = klass === 'AI' ? { count: pick([1, 2, 4, 8]), model: pick(MODELS) } : undefined;
      const spec = { cpu, memGiB, ...(accel ? { accel } : {}) };
      const industry = INDUSTRIES[ri % INDUSTRIES.length] as string;
      const cri = formatCri({
        registrant: { root: '86', platform: 'N00', entity },
        industry,
        location: { country, subdivision, site },
        class: klass,
        form,
        spec,
        serial,
      });
      const x = rnd();
      cols.handle.push(`${registrant}/${serial}`);
      cols.cri.push(cri);
      cols.name.push(`bench ${k}`);
      cols.owner.push(owners[ri] as string);
      cols.registrant.push(registrant);
      cols.serial.push(serial);
      cols.industry.push(industry);
      cols.cls.push(klass);
      cols.form.push(form);
      cols.country.push(country);
      cols.subdivision.push(subdivision);
      cols.site.push(site);
      cols.spec.push(JSON.stringify(spec));
      cols.cpu.push(cpu);
      cols.mem.push(memGiB);
      cols.model.push(accel?.model ?? null);
      cols.count.push(accel?.count ?? null);
      cols.state.push(pick(STATES));
      // 30 % online, 10 % degraded, the rest offline or never seen.
      cols.hb.push(
        x < 0.3
          ? new Date(now.getTime() - rnd() * 120_000).toISOString()
          : x < 0.4
            ? new Date(now.getTime() - 300_000 - rnd() * 300_000).toISOString()
            : x < 0.7
              ? new Date(now.getTime() - 86_400_000).toISOString()
              : null,
      );
      cols.created.push(new Date(now.getTime() - (TOTAL - k) * 1000).toISOString());
      if (cols.handle.length === 10_000) await flush();
    }
    await flush();
    await client.query('ANALYZE resources');
    const loadMs = performance.now() - t0;

    // ---- queries
    const shapes = [
      'class=AI&accelModel=H200&accelMin=8',
      'location=CN-GZ',
      'location=CN-GZ.GA1&form=CTR',
      'registrant=86.N00.E00007',
      'registrant=86.N00&industry=M&state=schedulable',
      'cpuMin=32&cpuMax=64&memMin=128',
      'class=GEN&status=online',
      'class=HPC&status=degraded&location=CN-NM',
      'accelModel=MI300X&accelMin=4&status=online&location=CN-GZ',
      'limit=100',
    ];
    // A second page of each shape too: the cursor path.
    const queries: string[] = [];
    for (const s of shapes) {
      queries.push(s);
      const first = (await (
        await fetch(`${api.url}/v1/resources/search?${s}`)
      ).json()) as ResourceSearchPage;
      if (first.nextCursor) queries.push(`${s}&cursor=${first.nextCursor}`);
    }
    const apiTimes: number[] = [];
    const sqlTimes: number[] = [];
    const run = async (measure: boolean): Promise<void> => {
      for (let round = 0; round < ROUNDS; round++) {
        for (const q of queries) {
          const parsed = resourceSearchSchema.parse(Object.fromEntries(new URLSearchParams(q)));
          const { sql, params } = buildResourceSearch(parsed, api.clock.now());
          let t = performance.now();
          await client.query(sql, params);
          if (measure) sqlTimes.push(performance.now() - t);
          t = performance.now();
          const res = await fetch(`${api.url}/v1/resources/search?${q}`);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`${q}: HTTP ${res.status}`);
          if (measure) apiTimes.push(performance.now() - t);
        }
      }
    };
    await run(false);
    await run(true);
    apiTimes.sort((a, b) => a - b);
    sqlTimes.sort((a, b) => a - b);
    const f = (n: number): string => n.toFixed(2);
    const [a50, a99, s50, s99] = [
      quantile(apiTimes, 0.5),
      quantile(apiTimes, 0.99),
      quantile(sqlTimes, 0.5),
      quantile(sqlTimes, 0.99),
    ];
    console.log(`registry search benchmark: ${TOTAL} resources (loaded in ${f(loadMs / 1000)} s)`);
    console.log(
      `${queries.length} queries (${shapes.length} shapes + second pages) x ${ROUNDS} rounds = ${apiTimes.length} each`,
    );
    console.log(`direct SQL in PostgreSQL   p50 ${f(s50)} ms  p99 ${f(s99)} ms`);
    console.log(`API GET /v1/resources/search p50 ${f(a50)} ms  p99 ${f(a99)} ms`);
    console.log(`ratio API/SQL              p50 ${f(a50 / s50)}x  p99 ${f(a99 / s99)}x`);
    console.log(`goal API p99 < 20 ms: ${a99 < 20 ? 'met' : 'NOT met'}`);
    // The slowest shape, for whoever tunes it next.
    const perShape = new Map<string, number[]>();
    for (const q of queries) {
      const parsed = resourceSearchSchema.parse(Object.fromEntries(new URLSearchParams(q)));
      const { sql, params } = buildResourceSearch(parsed, api.clock.now());
      const ts: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await client.query(sql, params);
        ts.push(performance.now() - t);
      }
      perShape.set(
        q.replace(/cursor=[^&]+/, 'cursor=…'),
        ts.sort((a, b) => a - b),
      );
    }
    const worst = [...perShape.entries()].sort(
      (x, y) => quantile(y[1], 0.5) - quantile(x[1], 0.5),
    )[0];
    if (worst)
      console.log(`slowest shape (SQL median): ${worst[0]}  ${f(quantile(worst[1], 0.5))} ms`);
    // Server-side execution time (EXPLAIN ANALYZE): what PostgreSQL spends, without the round
    // trip and the scheduling delays of a loaded machine.
    const executions: number[] = [];
    for (const q of queries) {
      const parsed = resourceSearchSchema.parse(Object.fromEntries(new URLSearchParams(q)));
      const { sql, params } = buildResourceSearch(parsed, api.clock.now());
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ANALYZE ${sql}`, params);
      const lines = plan.rows.map((r) => r['QUERY PLAN']);
      const exec = /Execution Time: ([\d.]+) ms/.exec(lines.join('\n'));
      executions.push(exec ? Number(exec[1]) : Number.NaN);
      if (process.env.BENCH_EXPLAIN) console.log(`\n${q}\n${lines.join('\n')}`);
    }
    executions.sort((a, b) => a - b);
    console.log(
      `server-side execution (EXPLAIN ANALYZE, one per query): median ${f(quantile(executions, 0.5))} ms  max ${f(executions[executions.length - 1] ?? Number.NaN)} ms`,
    );
  } finally {
    await client.end();
    await api.close();
    await db.drop();
  }
}

await main();
