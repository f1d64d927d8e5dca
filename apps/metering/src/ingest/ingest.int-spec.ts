// End to end through real PostgreSQL and Kafka: the real MeteringAgent produces, startIngest
// consumes in-process; assertions read the database and the DLQ topic.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import pg from 'pg';
import {
  ZERO_HASH,
  type UsageBatch,
  type UsageDeadLetter,
  type UsageEvent,
} from '@suanli/contracts';
import { generateSigningKey, sha256Hex, signJws, type SigningKey } from '@suanli/crypto';
import { Decimal } from '@suanli/money';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import { createTestTopics, kafkaBrokers } from '../../../../test/support/kafka.js';
import { MeteringAgent, type SentBatch } from '../agent/agent.js';
import { SimulatorCollector } from '../agent/collectors/simulator.js';
import type { ActiveLease, UsageSample } from '../agent/types.js';
import { startIngest, type RunningIngest } from './ingest.js';
import type { IngestConfig } from './config.js';

const SPEC = { cpu: 12, memGiB: 192, accel: { count: 1, model: 'H200' } };
const CRI = 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C12.M192.G1-H200:000137:U';
const LEASE_START = '2026-01-01T00:00:00.000Z';
const LEASE_END = '2026-02-01T00:00:00.000Z';

let db: TestDatabase;
let pool: pg.Pool;
let topics: Awaited<ReturnType<typeof createTestTopics>>;
let usageTopic: string;
let dlqTopic: string;
let kafka: Kafka;
let producer: Producer;
let dlqConsumer: Consumer;
const dlq: { headers: Record<string, string>; value: UsageDeadLetter }[] = [];
let ingest: RunningIngest | null = null;
let config: IngestConfig;

const resourceId = randomUUID();
const otherResourceId = randomUUID();
const leaseId = randomUUID();
const lateLeaseId = randomUUID();
const foreignLeaseId = randomUUID();

const lease = (id: string): ActiveLease => ({
  leaseId: id,
  cri: CRI,
  class: 'AI',
  spec: SPEC,
  slots: 8,
  startsAt: LEASE_START,
  endsAt: LEASE_END,
  catalogVersion: '2026.1',
});

const minute = (n: number, len = 1) => ({
  start: new Date(Date.parse(LEASE_START) + n * 60_000),
  end: new Date(Date.parse(LEASE_START) + (n + len) * 60_000),
});

const collector = new SimulatorCollector();
async function samples(id: string, from: number, count: number): Promise<UsageSample[]> {
  const out: UsageSample[] = [];
  for (let i = 0; i < count; i++) {
    const window = minute(from + i);
    out.push({ lease: lease(id), window, usage: await collector.sample(lease(id), window) });
  }
  return out;
}

let orgId: string;

/** A fresh lease (so that each test's aggregates are its own). */
async function createLease(resource = resourceId, id: string = randomUUID()): Promise<string> {
  await pool.query(
    `INSERT INTO leases (id, order_id, offer_id, resource_id, buyer_org_id, seller_org_id, slots, state,
                         starts_at, ends_at, currency, prices, catalog_version, take_rate, settled_until)
     VALUES ($1, $2, $3, $4, $5, $5, 8, 'active', $6, $7, 'CNY', '[]', '2026.1', '0.05', $6)`,
    [id, randomUUID(), randomUUID(), resource, orgId, LEASE_START, LEASE_END],
  );
  return id;
}

async function enrol(resource = resourceId): Promise<{ id: string; key: SigningKey }> {
  const key = await generateSigningKey();
  const id = `86.R03.E00042/000137#${randomUUID().slice(0, 8)}`;
  await pool.query(
    'INSERT INTO agents (id, resource_id, kid, public_jwk) VALUES ($1, $2, $3, $4)',
    [id, resource, key.kid, JSON.stringify(key.publicJwk)],
  );
  return { id, key };
}

function newAgent(a: { id: string; key: SigningKey }): MeteringAgent {
  return new MeteringAgent({
    agentId: a.id,
    privateJwk: a.key.privateJwk,
    producer,
    topic: usageTopic,
  });
}

/** Signs hand-made batches (to forge gaps, reused seqs, bad units) for an enrolled agent. */
class RawSigner {
  seq = 0;
  prev = ZERO_HASH;
  constructor(
    readonly agentId: string,
    private readonly key: SigningKey,
  ) {}
  async sign(events: UsageEvent[], over: Partial<UsageBatch> = {}): Promise<string> {
    const payload: UsageBatch = {
      schemaVersion: 1,
      batchId: randomUUID(),
      agent: this.agentId,
      seq: this.seq,
      prev: this.prev,
      events,
      ...over,
    };
    const jws = await signJws(payload, this.key.privateJwk);
    this.seq = payload.seq + 1;
    this.prev = sha256Hex(jws);
    return jws;
  }
}

async function sendRaw(key: string, jws: string): Promise<void> {
  await producer.send({
    topic: usageTopic,
    messages: [{ key, value: jws, headers: { 'event-id': randomUUID(), 'schema-version': '1' } }],
  });
}

/** Σ units per unit code and bucket of the given events (what the aggregates must hold). */
function expected(events: UsageEvent[], bucketMs: number): Record<string, string> {
  const sums: Record<string, Decimal> = {};
  for (const e of events) {
    const b = new Date(
      Math.floor(Date.parse(e.data.window.start) / bucketMs) * bucketMs,
    ).toISOString();
    for (const [unit, q] of Object.entries(e.data.units)) {
      sums[`${unit}@${b}`] = (sums[`${unit}@${b}`] ?? new Decimal(0)).plus(q);
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v.toFixed(9)]));
}

async function aggregates(
  table: 'usage_minutes' | 'usage_hours',
  id: string,
): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ unit: string; bucket: Date; quantity: string }>(
    `SELECT unit, bucket, quantity::text AS quantity FROM ${table} WHERE lease_id = $1`,
    [id],
  );
  return Object.fromEntries(rows.map((r) => [`${r.unit}@${r.bucket.toISOString()}`, r.quantity]));
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

async function start(hooks?: IngestConfig['hooks']): Promise<RunningIngest> {
  ingest = await startIngest({ ...config, ...(hooks ? { hooks } : {}) });
  return ingest;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  topics = await createTestTopics({ 'exchange.usage.v1': 3, 'exchange.usage.dlq.v1': 1 });
  usageTopic = topics.topics['exchange.usage.v1'];
  dlqTopic = topics.topics['exchange.usage.dlq.v1'];

  const org = randomUUID();
  await pool.query(
    `INSERT INTO organizations (id, name, roles, industry) VALUES ($1, 'Seller', '{seller}', 'I')`,
    [org],
  );
  for (const [id, serial] of [
    [resourceId, '000137'],
    [otherResourceId, '000138'],
  ]) {
    await pool.query(
      `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry, class, form,
                              country, subdivision, site, spec, state)
       VALUES ($1, $2, $3, 'GPU box', $4, '86.R03.E00042', $5, 'I', 'AI', 'CTR', 'CN', 'GZ', 'GA1', $6, 'running')`,
      [
        id,
        `86.R03.E00042/${serial}`,
        CRI.replace('000137', serial),
        org,
        serial,
        JSON.stringify(SPEC),
      ],
    );
  }
  orgId = org;
  await createLease(resourceId, leaseId);
  await createLease(resourceId, lateLeaseId);
  await createLease(otherResourceId, foreignLeaseId);
  await pool.query(
    `INSERT INTO invoices (number, lease_id, buyer_org_id, seller_org_id, currency, period_start, period_end,
                           lines, debit_note_ids, subtotal, credits, total, fee, issued_at)
     VALUES ('INV-1', $1, $2, $2, 'CNY', $3, $4, '[]', '{}', 0, 0, 0, 0, '2026-02-02T00:00:00Z')`,
    [lateLeaseId, org, LEASE_START, LEASE_END],
  );

  kafka = new Kafka({
    clientId: 'metering-int',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  dlqConsumer = kafka.consumer({ groupId: `dlq-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await dlqConsumer.connect();
  await dlqConsumer.subscribe({ topic: dlqTopic, fromBeginning: true });
  await dlqConsumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      dlq.push({ headers, value: JSON.parse(String(message.value)) as UsageDeadLetter });
    },
  });

  config = {
    databaseUrl: db.url,
    kafkaBrokers: kafkaBrokers(),
    usageTopic,
    dlqTopic,
    groupId: `metering-ingest-${randomUUID()}`,
    port: 0,
    lateGraceHours: 24,
  };
  process.env.INGEST_QUIET = '1';
  await start();
}, 120_000);

afterAll(async () => {
  await ingest?.stop();
  await dlqConsumer?.disconnect();
  await producer?.disconnect();
  await pool?.end();
  await topics?.drop();
  await db?.drop();
}, 60_000);

describe('metering ingest (PostgreSQL + Kafka)', () => {
  it('applies the agent batches: exact minute and hour aggregates, chain head, heartbeat', async () => {
    const a = await enrol();
    const agent = newAgent(a);
    const sent: SentBatch[] = [];
    // 3 batches × 4 one-minute windows, crossing the 00:59 → 01:00 hour boundary.
    for (let b = 0; b < 3; b++)
      sent.push(await agent.sendBatch(await samples(leaseId, 56 + b * 4, 4)));
    const events = sent.flatMap((s) => s.events);
    await expectEventually(async () => {
      expect(await count('SELECT count(*) AS n FROM usage_events WHERE source = $1', [a.id])).toBe(
        12,
      );
    });
    expect(await aggregates('usage_minutes', leaseId)).toEqual(expected(events, 60_000));
    expect(await aggregates('usage_hours', leaseId)).toEqual(expected(events, 3_600_000));
    const { rows } = await pool.query(
      'SELECT last_seq::int AS seq, last_hash FROM agents WHERE id = $1',
      [a.id],
    );
    expect(rows[0]).toEqual({ seq: 2, last_hash: sha256Hex(sent[2].jws) });
    expect(await count('SELECT count(*) AS n FROM agent_batches WHERE agent_id = $1', [a.id])).toBe(
      3,
    );
    expect(
      await count(
        'SELECT count(*) AS n FROM resources WHERE id = $1 AND last_heartbeat_at IS NOT NULL',
        [resourceId],
      ),
    ).toBe(1);
    // The server's units are stored with each event.
    const stored = await pool.query<{ units: Record<string, string> }>(
      'SELECT units FROM usage_events WHERE source = $1 AND event_id = $2',
      [a.id, events[0].id],
    );
    expect(stored.rows[0].units).toEqual(events[0].data.units);
  }, 60_000);
});
