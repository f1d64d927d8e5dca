// Credibility recompute cost for a resource with a month of leased telemetry.
//
//   DATABASE_URL=postgres://…/suanli node --import @swc-node/register/esm-register \
//     bench/credibility/recompute.bench.ts        # BENCH_ROUNDS=20 BENCH_DAYS=30
//
// One seller resource, one lease of BENCH_DAYS days, a heartbeat every minute (every 17th hour
// offline), 3 signed evaluations. Measures, per round: the baseline — one SQL scan of the same
// heartbeats (count of online minutes in the lease window) — then the pure formula on gathered
// evidence, evidence gathering (SQL + mapping), and the full recompute (gather, compute, store
// the score with its evidence and a history point).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import type { OrderView } from '@suanli/contracts';
import { generateSigningKey, signJws } from '@suanli/crypto';
import { ScoresService } from '../../apps/market-api/src/credibility/scores.service.js';
import { computeScore } from '../../apps/market-api/src/credibility/scoring.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../test/support/actors.js';
import { apiClient } from '../../test/support/http.js';
import { startMarketApi } from '../../test/support/market-api.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const HOUR = 3_600_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
};
async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const api = await startMarketApi();
try {
  const db = api.app.get(DataSource);
  const scores = api.app.get(ScoresService);
  const start = api.clock.now();
  const market = await sellerWithOffer(api);
  const buyer = await signUpActor(api, ['buyer']);
  await fundWallet(api, buyer.orgId, 'CNY', String(DAYS * 24 * 10 + 100));
  const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
    offerId: market.offer.id,
    slots: 1,
    hours: DAYS * 24,
  });
  if (order.status !== 201) throw new Error(`order: ${order.status}`);
  await db.query(
    `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status)
     SELECT $1, m, $2, CASE WHEN extract(epoch FROM date_trunc('hour', m))::bigint / 3600 % 17 = 0
                            THEN 'offline' ELSE 'online' END
       FROM generate_series($3::timestamptz, $4::timestamptz - interval '1 minute', interval '1 minute') AS m`,
    [market.resource.id, market.agent.id, start, new Date(start.getTime() + DAYS * 24 * HOUR)],
  );

  // Three evaluations from an assessor.
  const op = apiClient(api.url, await api.operatorToken());
  const email = `bench-assessor-${Date.now()}@suanli.test`;
  const admitted = await op.post<{ organization: { id: string } }>('/v1/admin/organizations', {
    email,
    password: 'assessor-password-1',
    displayName: 'bench assessor',
    organization: { name: 'Bench lab', roles: ['assessor'], industry: 'M' },
  });
  const token = (
    await apiClient(api.url).post<{ accessToken: string }>('/v1/auth/login', {
      email,
      password: 'assessor-password-1',
    })
  ).body.accessToken;
  const lab = apiClient(api.url, token);
  const key = await generateSigningKey();
  await lab.post('/v1/assessors/me/keys', { publicJwk: key.publicJwk });
  const iat = Math.floor(start.getTime() / 1000);
  for (const metrics of [{ availability: '0.99' }, { perf_ratio: '0.97' }, { security: 'pass' }]) {
    const method = metrics.availability
      ? 'uptime-probe.v1'
      : metrics.perf_ratio
        ? 'suanli.bench.v1'
        : 'security-audit.v1';
    const jws = await signJws(
      {
        iss: admitted.body.organization.id,
        sub: market.resource.cri,
        iat,
        exp: iat + 90 * 86400,
        jti: randomUUID(),
        method,
        metrics,
      },
      key.privateJwk,
    );
    const r = await lab.post('/v1/evaluations', { jws });
    if (r.status !== 201) throw new Error(`evaluation: ${r.status} ${JSON.stringify(r.body)}`);
  }
  api.clock.advance(DAYS * 24 * HOUR);
  await db.query('ANALYZE resource_heartbeats');

  const baseline: number[] = [];
  const pure: number[] = [];
  const gather: number[] = [];
  const full: number[] = [];
  let evidenceHours = 0;
  let score = 0;
  for (let i = 0; i < ROUNDS + 2; i++) {
    const b = await time(() =>
      db.query(
        `SELECT count(*) FROM resource_heartbeats
          WHERE resource_id = $1 AND status = 'online' AND at >= $2 AND at < $3`,
        [market.resource.id, start, api.clock.now()],
      ),
    );
    let ev: Awaited<ReturnType<ScoresService['gatherEvidence']>> | undefined;
    const g = await time(async () => {
      ev = await scores.gatherEvidence('resource', market.resource.id, api.clock.now());
    });
    const p = await time(() => {
      score = computeScore(ev!).score;
    });
    const f = await time(() => scores.recompute('resource', market.resource.id));
    evidenceHours = ev!.telemetry.length;
    if (i < 2) continue; // warm-up
    baseline.push(b);
    gather.push(g);
    pure.push(p);
    full.push(f);
  }
  const b50 = median(baseline);
  const row = (name: string, xs: number[]) =>
    `| ${name.padEnd(46)} | ${median(xs).toFixed(2).padStart(8)} ms | ${p95(xs).toFixed(2).padStart(8)} ms | ${(median(xs) / b50).toFixed(2).padStart(6)}x |`;
  console.log(
    `\n${DAYS} days leased, ${evidenceHours} telemetry hours, ${DAYS * 24 * 60} heartbeats, 3 evaluations, ${ROUNDS} rounds; score ${score.toFixed(2)}\n`,
  );
  console.log(
    '| step                                           |      median |         p95 |  ratio |',
  );
  console.log(
    '| ---------------------------------------------- | ----------- | ----------- | ------ |',
  );
  console.log(row('baseline: SQL count of the heartbeats', baseline));
  console.log(row('computeScore (pure, on gathered evidence)', pure));
  console.log(row('gather evidence (SQL + mapping)', gather));
  console.log(row('full recompute (gather, compute, store)', full));
} finally {
  await api.close();
}
