// Ingest apply-stage benchmark: the ingest's per-Kafka-batch work (verify, validate, dedupe,
// aggregate, one PostgreSQL transaction) on pre-signed batches, without Kafka, so its CPU cost
// per event can be profiled alone. Baseline in the same run: the same rows written by a bare
// `unnest` INSERT of the events (what PostgreSQL alone needs for them).
//
//   DATABASE_URL=postgres://…/suanli node --import @swc-node/register/esm-register \
//     bench/metering/apply.bench.ts      # BENCH_EVENTS=50000 BENCH_MESSAGES_PER_TX=16
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { applyMessages, type InboundMessage } from '../../apps/metering/src/ingest/apply.js';
import { LEASE_START, signedBatches } from './fixture.js';
import { createTestDatabase } from '../../test/support/db.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? '50000');
const PER_BATCH = 500;
const AGENTS = 8;
const LEASES = 100;
const PER_TX = Number(process.env.BENCH_MESSAGES_PER_TX ?? '16');

const db = await createTestDatabase();
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
// Time per statement (its first words), client-side serialisation included: printed at the end.
const statementMs = new Map<string, { ms: number; n: number }>();
const applyPool = {
  connect: async () => {
    const client = await pool.connect();
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    return Object.assign(Object.create(client) as pg.PoolClient, {
      query: async (...args: unknown[]) => {
        const t = performance.now();
        try {
          return await query(...args);
        } finally {
          const key = String(args[0]).replace(/\s+/g, ' ').trim().slice(0, 40);
          const s = statementMs.get(key) ?? { ms: 0, n: 0 };
          s.ms += performance.now() - t;
          s.n++;
          statementMs.set(key, s);
        }
      },
      release: (err?: Error | boolean) => client.release(err),
    });
  },
} as unknown as pg.Pool;
try {
  const { batches: captured, events } = await signedBatches(pool, {
    events: EVENTS,
    perBatch: PER_BATCH,
    agents: AGENTS,
    leases: LEASES,
  });
  // Interleave the agents as a partition would carry them.
  const byAgent = new Map<string, typeof captured>();
  for (const m of captured) byAgent.set(m.key, [...(byAgent.get(m.key) ?? []), m]);
  const queues = [...byAgent.values()];
  const ordered: InboundMessage[] = [];
  for (let i = 0; ordered.length < captured.length; i++)
    for (const q of queues)
      if (q[i])
        ordered.push({
          partition: 0,
          offset: String(ordered.length),
          key: q[i].key,
          value: Buffer.from(q[i].value),
        });

  // BENCH_PROFILE=<file.cpuprofile>: a V8 CPU profile of the apply phase only.
  const session = process.env.BENCH_PROFILE ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const t0 = process.hrtime.bigint();
  let applied = 0;
  for (let i = 0; i < ordered.length; i += PER_TX) {
    const r = await applyMessages(applyPool, ordered.slice(i, i + PER_TX), {
      now: new Date(LEASE_START + 400 * 86_400_000),
      lateGraceHours: 24,
    });
    applied += r.applied;
  }
  const applySeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (session && process.env.BENCH_PROFILE) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.BENCH_PROFILE, JSON.stringify(profile));
    session.disconnect();
  }

  // Baseline: the same number of event rows by one bare unnest INSERT per transaction-sized chunk.
  await pool.query('CREATE TABLE bench_events (LIKE usage_events INCLUDING ALL)');
  const rows = await pool.query<{
    source: string;
    event_id: string;
    lease_id: string;
    window_start: Date;
  }>('SELECT source, event_id, lease_id, window_start FROM usage_events');
  const t1 = process.hrtime.bigint();
  const chunk = PER_TX * PER_BATCH;
  for (let i = 0; i < rows.rows.length; i += chunk) {
    const part = rows.rows.slice(i, i + chunk);
    await pool.query(
      `INSERT INTO bench_events (source, event_id, lease_id, window_start, batch_seq, signed)
       SELECT *, 0, true FROM unnest($1::text[], $2::text[], $3::uuid[], $4::timestamptz[])`,
      [
        part.map((r) => r.source),
        part.map((r) => r.event_id),
        part.map((r) => r.lease_id),
        part.map((r) => r.window_start),
      ],
    );
  }
  const baseSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  console.log(
    `apply: ${applied} of ${events} events in ${applySeconds.toFixed(2)} s = ${Math.round(applied / applySeconds)} events/s ` +
      `(${((applySeconds * 1e6) / applied).toFixed(1)} µs/event); bare INSERT of the same rows: ` +
      `${Math.round(rows.rows.length / baseSeconds)} rows/s; ratio ${(baseSeconds / applySeconds).toFixed(2)}`,
  );
  for (const [sql, { ms, n }] of [...statementMs].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${String(n).padStart(4)}×  ${sql}`);
  }
} finally {
  await pool.end();
  await db.drop();
}
