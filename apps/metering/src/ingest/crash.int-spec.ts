// Failure tests on real processes: the real ingest (main.ts) as a child process killed with
// SIGKILL in the middle of a batch's transaction, then restarted; and a private Kafka broker
// restarted while the real agent produces. Totals must be exact: nothing lost, nothing doubled.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import pg from 'pg';
import type { UsageEvent } from '@suanli/contracts';
import { generateSigningKey, type SigningKey } from '@suanli/crypto';
import { Decimal } from '@suanli/money';
import { minuteRowsSql } from '@suanli/units';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import { createTestTopics, kafkaBrokers } from '../../../../test/support/kafka.js';
import { MeteringAgent } from '../agent/agent.js';
import { SimulatorCollector } from '../agent/collectors/simulator.js';
import type { ActiveLease, UsageSample } from '../agent/types.js';
import { startPrivateKafka, type PrivateKafka } from '../testing/private-kafka.js';
import { startIngest } from './ingest.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const SPEC = { cpu: 12, memGiB: 192, accel: { count: 1, model: 'H200' } };
const CRI = 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C12.M192.G1-H200:000137:U';
const LEASE_START = Date.parse('2026-01-01T00:00:00.000Z');

let db: TestDatabase;
let pool: pg.Pool;
let orgId: string;
let resourceId: string;
const collector = new SimulatorCollector();

const lease = (id: string): ActiveLease => ({
  leaseId: id,
  cri: CRI,
  class: 'AI',
  spec: SPEC,
  slots: 8,
  startsAt: new Date(LEASE_START).toISOString(),
  endsAt: '2026-03-01T00:00:00.000Z',
  catalogVersion: '2026.1',
});

async function samples(id: string, from: number, count: number): Promise<UsageSample[]> {
  const out: UsageSample[] = [];
  for (let i = 0; i < count; i++) {
    const window = {
      start: new Date(LEASE_START + (from + i) * 60_000),
      end: new Date(LEASE_START + (from + i + 1) * 60_000),
    };
    out.push({ lease: lease(id), window, usage: await collector.sample(lease(id), window) });
  }
  return out;
}

async function createLease(): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO metering_leases (id, resource_id, seller_org_id, state, cri, class, spec, slots,
                                  starts_at, ends_at, catalog_version, event_at, event_id)
     VALUES ($1, $2, $3, 'active', $4, 'AI', $5, 8, $6, '2026-03-01T00:00:00Z', '2026.1', $6, $7)`,
    [id, resourceId, orgId, CRI, JSON.stringify(SPEC), new Date(LEASE_START), randomUUID()],
  );
  return id;
}

async function enrol(): Promise<{ id: string; key: SigningKey }> {
  const key = await generateSigningKey();
  const id = `86.R03.E00042/000137#${randomUUID().slice(0, 8)}`;
  await pool.query(
    'INSERT INTO agents (id, resource_id, kid, public_jwk) VALUES ($1, $2, $3, $4)',
    [id, resourceId, key.kid, JSON.stringify(key.publicJwk)],
  );
  return { id, key };
}

/** Σ units per unit code and minute of the events: what usage_minutes must hold. */
function expected(events: UsageEvent[]): Record<string, string> {
  const sums: Record<string, Decimal> = {};
  for (const e of events) {
    const b = new Date(Math.floor(Date.parse(e.data.window.start) / 60_000) * 60_000).toISOString();
    for (const [unit, q] of Object.entries(e.data.units)) {
      sums[`${unit}@${b}`] = (sums[`${unit}@${b}`] ?? new Decimal(0)).plus(q);
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v.toFixed(9)]));
}

async function minutes(id: string): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ unit: string; bucket: Date; quantity: string }>(
    `SELECT unit, bucket, quantity::text AS quantity FROM ${minuteRowsSql()} u WHERE lease_id = $1`,
    [id],
  );
  return Object.fromEntries(rows.map((r) => [`${r.unit}@${r.bucket.toISOString()}`, r.quantity]));
}

async function eventCount(id: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM usage_events WHERE lease_id = $1',
    [id],
  );
  return Number(rows[0].n);
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined);
  orgId = randomUUID();
  resourceId = randomUUID();
  await pool.query(
    `INSERT INTO organizations (id, name, roles, industry) VALUES ($1, 'Seller', '{seller}', 'I')`,
    [orgId],
  );
  await pool.query(
    `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry, class, form,
                            country, subdivision, site, spec, state)
     VALUES ($1, '86.R03.E00042/000137', $2, 'GPU box', $3, '86.R03.E00042', '000137', 'I', 'AI', 'CTR',
             'CN', 'GZ', 'GA1', $4, 'running')`,
    [resourceId, CRI, orgId, JSON.stringify(SPEC)],
  );
  process.env.INGEST_QUIET = '1';
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await db?.drop();
}, 60_000);

describe('metering under failures (real processes)', () => {
  it('kill -9 of the ingest in the middle of a batch, then a restart: totals exact', async () => {
    const topics = await createTestTopics({
      'exchange.usage.v1': 3,
      'exchange.usage.dlq.v1': 1,
      'exchange.lease.v1': 1,
    });
    const kafka = new Kafka({
      clientId: 'crash-int',
      brokers: kafkaBrokers(),
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const children: ChildProcess[] = [];
    const spawnIngest = (holdMs: number): ChildProcess => {
      const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', MAIN], {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          KAFKA_BROKERS: kafkaBrokers().join(','),
          USAGE_TOPIC: topics.topics['exchange.usage.v1'],
          DLQ_TOPIC: topics.topics['exchange.usage.dlq.v1'],
          LEASE_TOPIC: topics.topics['exchange.lease.v1'],
          GROUP_ID: `crash-${randomUUID()}`.slice(0, 40),
          INGEST_PORT: '0',
          INGEST_QUIET: '1',
          INGEST_TEST_HOLD_BEFORE_COMMIT_MS: String(holdMs),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };
    try {
      const a = await enrol();
      const id = await createLease();
      const agent = new MeteringAgent({
        agentId: a.id,
        privateJwk: a.key.privateJwk,
        producer,
        topic: topics.topics['exchange.usage.v1'],
      });
      const events: UsageEvent[] = [];
      for (let b = 0; b < 20; b++)
        events.push(...(await agent.sendBatch(await samples(id, b * 10, 10))).events);

      // Every transaction stays open 3 s before COMMIT: wait until one is open, then SIGKILL.
      const first = spawnIngest(3_000);
      await expectEventually(
        async () => {
          const { rows } = await pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND state = 'idle in transaction'`,
          );
          expect(Number(rows[0].n)).toBeGreaterThan(0);
        },
        { timeoutMs: 60_000 },
      );
      const exited = new Promise((r) => first.once('exit', r));
      first.kill('SIGKILL');
      await exited;
      // Nothing of the killed transaction is visible.
      expect(await eventCount(id)).toBe(0);

      // More usage while the ingest is down; then a clean restart applies everything once.
      for (let b = 20; b < 25; b++)
        events.push(...(await agent.sendBatch(await samples(id, b * 10, 10))).events);
      const second = spawnIngest(0);
      await expectEventually(
        async () => {
          expect(await eventCount(id)).toBe(events.length);
          expect(await minutes(id)).toEqual(expected(events));
        },
        { timeoutMs: 90_000 },
      );
      // The restarted ingest must not redo anything later either.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await minutes(id)).toEqual(expected(events));
      const { rows } = await pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM usage_dead_letters WHERE agent_id = $1',
        [a.id],
      );
      expect(Number(rows[0].n)).toBe(0);
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await producer.disconnect();
      await topics.drop();
    }
  }, 240_000);

  it('a broker restart while the agent produces: nothing lost, nothing doubled', async () => {
    let broker: PrivateKafka | null = null;
    const stateDir = await mkdtemp(join(tmpdir(), 'agent-spool-'));
    let producer: Producer | null = null;
    let ingest: Awaited<ReturnType<typeof startIngest>> | null = null;
    try {
      broker = await startPrivateKafka();
      const kafka = new Kafka({
        clientId: 'broker-restart',
        brokers: broker.brokers,
        logLevel: logLevel.NOTHING,
        retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: 'exchange.usage.v1', numPartitions: 3 },
          { topic: 'exchange.usage.dlq.v1', numPartitions: 1 },
          { topic: 'exchange.lease.v1', numPartitions: 1 },
        ],
      });
      await admin.disconnect();
      producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      ingest = await startIngest({
        databaseUrl: db.url,
        kafkaBrokers: broker.brokers,
        usageTopic: 'exchange.usage.v1',
        dlqTopic: 'exchange.usage.dlq.v1',
        leaseTopic: 'exchange.lease.v1',
        groupId: 'metering-ingest',
        port: 0,
        lateGraceHours: 24,
      });
      const a = await enrol();
      const id = await createLease();
      const agent = new MeteringAgent({
        agentId: a.id,
        privateJwk: a.key.privateJwk,
        producer,
        topic: 'exchange.usage.v1',
        stateFile: join(stateDir, 'agent.json'),
        maxAttempts: 2,
        retryDelayMs: 100,
      });
      // The agent's loop: one batch per "window", the spool drained after each (errors are
      // expected while the broker is down: the batches stay spooled).
      const events: UsageEvent[] = [];
      let failures = 0;
      let window = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++, window++) {
          events.push(...(await agent.spoolBatch(await samples(id, window * 5, 5))).events);
          await agent.drain().catch(() => failures++);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await produce(10);
      const producing = produce(30);
      await new Promise((r) => setTimeout(r, 300));
      await broker.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await broker.start();
      await producing;
      // Whatever is still spooled goes now.
      await expectEventually(async () => expect(await agent.drain().catch(() => -1)).toBe(0), {
        timeoutMs: 60_000,
      });
      expect((await agent.stats()).spooled).toBe(0);
      await expectEventually(
        async () => {
          expect(await eventCount(id)).toBe(events.length);
          expect(await minutes(id)).toEqual(expected(events));
        },
        { timeoutMs: 120_000 },
      );
      expect(events.length).toBe(40 * 5);
      // The restart was felt by the agent (sends failed and were retried from the spool).
      expect(failures).toBeGreaterThan(0);
      const { rows } = await pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM usage_dead_letters WHERE agent_id = $1',
        [a.id],
      );
      expect(Number(rows[0].n)).toBe(0);
    } finally {
      await ingest?.stop().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      await broker?.destroy();
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
