// Ingest apply-stage benchmark: the ingest's per-Kafka-batch work (verify, validate, dedupe,
// aggregate, one PostgreSQL transaction) on pre-signed batches, without Kafka, so its CPU cost
// per event can be profiled alone. Baseline in the same run: the same rows written by a bare
// `unnest` INSERT of the events (what PostgreSQL alone needs for them).
//
//   DATABASE_URL=postgres://…/suanli node --import @swc-node/register/esm-register \
//     bench/metering/apply.bench.ts      # BENCH_EVENTS=50000 BENCH_MESSAGES_PER_TX=16
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { generateSigningKey } from '@suanli/crypto';
import { MeteringAgent } from '../../apps/metering/src/agent/agent.js';
import { SimulatorCollector } from '../../apps/metering/src/agent/collectors/simulator.js';
import type { ActiveLease, UsageSample } from '../../apps/metering/src/agent/types.js';
import { applyMessages, type InboundMessage } from '../../apps/metering/src/ingest/apply.js';
import { createTestDatabase } from '../../test/support/db.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? '50000');
const PER_BATCH = 500;
const AGENTS = 8;
const LEASES = 100;
const PER_TX = Number(process.env.BENCH_MESSAGES_PER_TX ?? '16');
const SPEC = { cpu: 192, memGiB: 2048, accel: { count: 8, model: 'H200' } };
const CRI = 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C192.M2048.G8-H200:000137:U';
const LEASE_START = Date.parse('2026-01-01T00:00:00Z');

const db = await createTestDatabase();
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
try {
  const org = randomUUID();
  const resource = randomUUID();
  await pool.query(
    `INSERT INTO organizations (id, name, roles, industry) VALUES ($1, 'Bench', '{seller}', 'I')`,
    [org],
  );
  await pool.query(
    `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry, class, form,
                            country, subdivision, site, spec, state)
     VALUES ($1, '86.R03.E00042/000137', $2, 'bench', $3, '86.R03.E00042', '000137', 'I', 'AI', 'CTR',
             'CN', 'GZ', 'GA1', $4, 'running')`,
    [resource, CRI, org, JSON.stringify(SPEC)],
  );
  const leaseIds = Array.from({ length: LEASES }, () => randomUUID());
  await pool.query(
    `INSERT INTO metering_leases (id, resource_id, seller_org_id, state, cri, class, spec, slots,
                                  starts_at, ends_at, catalog_version, event_at, event_id)
     SELECT id, $2, $3, 'active', $4, 'AI', $5, 1, $6::timestamptz, $6::timestamptz + interval '365 days', '2026.1', $6::timestamptz, id::text
       FROM unnest($1::uuid[]) AS id`,
    [leaseIds, resource, org, CRI, JSON.stringify(SPEC), new Date(LEASE_START)],
  );
  const captured: { key: string; value: string }[] = [];
  const capture = {
    send: async (r: { messages: typeof captured }) => {
      captured.push(...r.messages);
      return [];
    },
  } as unknown as ConstructorParameters<typeof MeteringAgent>[0]['producer'];
  const collector = new SimulatorCollector();
  const perAgent = Math.ceil(EVENTS / AGENTS);
  let minute = 0;
  for (let a = 0; a < AGENTS; a++) {
    const key = await generateSigningKey();
    const id = `86.R03.E00042/000137#b${a}`;
    await pool.query(
      'INSERT INTO agents (id, resource_id, kid, public_jwk) VALUES ($1, $2, $3, $4)',
      [id, resource, key.kid, JSON.stringify(key.publicJwk)],
    );
    const agent = new MeteringAgent({ agentId: id, privateJwk: key.privateJwk, producer: capture });
    for (let done = 0; done < perAgent; done += PER_BATCH) {
      const samples: UsageSample[] = [];
      for (let i = 0; i < Math.min(PER_BATCH, perAgent - done); i++, minute++) {
        const lease: ActiveLease = {
          leaseId: leaseIds[minute % LEASES],
          cri: CRI,
          class: 'AI',
          spec: SPEC,
          slots: 1,
          startsAt: new Date(LEASE_START).toISOString(),
          endsAt: new Date(LEASE_START + 365 * 86_400_000).toISOString(),
          catalogVersion: '2026.1',
        };
        const m = Math.floor(minute / LEASES);
        const window = {
          start: new Date(LEASE_START + m * 60_000),
          end: new Date(LEASE_START + (m + 1) * 60_000),
        };
        samples.push({ lease, window, usage: await collector.sample(lease, window) });
      }
      await agent.sendBatch(samples);
    }
  }
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
          value: q[i].value,
        });
  const events = perAgent * AGENTS;

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
    const r = await applyMessages(pool, ordered.slice(i, i + PER_TX), {
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
    window_end: Date;
    units: unknown;
  }>('SELECT source, event_id, lease_id, window_start, window_end, units FROM usage_events');
  const t1 = process.hrtime.bigint();
  const chunk = PER_TX * PER_BATCH;
  for (let i = 0; i < rows.rows.length; i += chunk) {
    const part = rows.rows.slice(i, i + chunk);
    await pool.query(
      `INSERT INTO bench_events (source, event_id, lease_id, window_start, window_end, units, batch_seq, signed)
       SELECT *, 0, true FROM unnest($1::text[], $2::text[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::jsonb[])`,
      [
        part.map((r) => r.source),
        part.map((r) => r.event_id),
        part.map((r) => r.lease_id),
        part.map((r) => r.window_start),
        part.map((r) => r.window_end),
        part.map((r) => JSON.stringify(r.units)),
      ],
    );
  }
  const baseSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  console.log(
    `apply: ${applied} of ${events} events in ${applySeconds.toFixed(2)} s = ${Math.round(applied / applySeconds)} events/s ` +
      `(${((applySeconds * 1e6) / applied).toFixed(1)} µs/event); bare INSERT of the same rows: ` +
      `${Math.round(rows.rows.length / baseSeconds)} rows/s; ratio ${(baseSeconds / applySeconds).toFixed(2)}`,
  );
} finally {
  await pool.end();
  await db.drop();
}
