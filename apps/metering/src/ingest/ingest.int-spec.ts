// End to end through real PostgreSQL and Kafka: the real MeteringAgent produces, startIngest
// consumes in-process; assertions read the database and the DLQ topic.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import pg from 'pg';
import {
  ZERO_HASH,
  type LeaseEvent,
  type UnsignedUsageEnvelope,
  type UsageBatch,
  type UsageDeadLetter,
  type UsageEvent,
} from '@suanli/contracts';
import { generateSigningKey, sha256Hex, signJws, type SigningKey } from '@suanli/crypto';
import { Decimal } from '@suanli/money';
import { minuteRowsSql } from '@suanli/units';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import { createTestTopics, kafkaBrokers } from '../../../../test/support/kafka.js';
import { scrapeMetrics, TEST_METRICS_TOKEN } from '../../../../test/support/metrics.js';
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
let leaseTopic: string;
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

/**
 * A fresh lease (so that each test's aggregates are its own), in the ingest's read model
 * `metering_leases` (what the market's lease events build; one test goes through the topic).
 */
async function createLease(
  resource = resourceId,
  id: string = randomUUID(),
  invoicedAt: string | null = null,
): Promise<string> {
  await pool.query(
    `INSERT INTO metering_leases (id, resource_id, seller_org_id, state, cri, class, spec, slots,
                                  starts_at, ends_at, invoiced_at, catalog_version, event_at, event_id)
     VALUES ($1, $2, $3, 'active', $4, 'AI', $5, 8, $6, $7, $8, '2026.1', $6, $9)`,
    [
      id,
      resource,
      orgId,
      CRI,
      JSON.stringify(SPEC),
      LEASE_START,
      LEASE_END,
      invoicedAt,
      randomUUID(),
    ],
  );
  return id;
}

/** The market's `lease.started` event for a lease of the test resource (`exchange.lease.v1`). */
function leaseStarted(id: string): LeaseEvent {
  return {
    eventId: randomUUID(),
    schemaVersion: 1,
    type: 'lease.started',
    leaseId: id,
    resourceId,
    sellerOrgId: orgId,
    cri: CRI,
    class: 'AI',
    spec: SPEC,
    cpuModel: null,
    slots: 8,
    startsAt: LEASE_START,
    endsAt: LEASE_END,
    endedAt: null,
    invoicedAt: null,
    catalogVersion: '2026.1',
    acceptsUnsigned: false,
    occurredAt: LEASE_START,
  };
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
    `SELECT unit, bucket, quantity::text AS quantity
       FROM ${table === 'usage_minutes' ? minuteRowsSql() : table} u WHERE lease_id = $1`,
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
  topics = await createTestTopics({
    'exchange.usage.v1': 3,
    'exchange.usage.dlq.v1': 1,
    'exchange.lease.v1': 2,
  });
  leaseTopic = topics.topics['exchange.lease.v1'];
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
  await createLease(resourceId, lateLeaseId, '2026-02-02T00:00:00Z');
  await createLease(otherResourceId, foreignLeaseId);

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
    leaseTopic,
    groupId: `metering-ingest-${randomUUID()}`,
    port: 0,
    lateGraceHours: 24,
    metricsToken: TEST_METRICS_TOKEN,
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
    // Each event is recorded with its lease, minute and signed batch (its quantities are in the
    // aggregates).
    const stored = await pool.query<{ lease_id: string; window_start: Date; batch_seq: string }>(
      'SELECT lease_id, window_start, batch_seq FROM usage_events WHERE source = $1 AND event_id = $2',
      [a.id, events[0].id],
    );
    expect(stored.rows[0]).toEqual({
      lease_id: events[0].subject,
      window_start: new Date(events[0].data.window.start),
      batch_seq: expect.any(String),
    });
  }, 60_000);

  it('counts a duplicate delivery once: the same JWS three times, and a replayed event in a new batch', async () => {
    const a = await enrol();
    const id = await createLease();
    const signer = new RawSigner(a.id, a.key);
    const agent = newAgent(a);
    const e1 = agent.buildEvent((await samples(id, 0, 1))[0], new Date());
    const e2 = agent.buildEvent((await samples(id, 1, 1))[0], new Date());
    const first = await signer.sign([e1]);
    await sendRaw(a.id, first);
    await sendRaw(a.id, first); // agent retry / redelivery of the whole message
    await sendRaw(a.id, first); // and a third time
    // The next batch (a new seq) carries e1 again beside the new e2.
    await sendRaw(a.id, await signer.sign([e1, e2]));
    await expectEventually(async () => {
      const { rows } = await pool.query('SELECT last_seq::int AS seq FROM agents WHERE id = $1', [
        a.id,
      ]);
      expect(rows[0].seq).toBe(1);
    });
    expect(await count('SELECT count(*) AS n FROM usage_events WHERE lease_id = $1', [id])).toBe(2);
    expect(await aggregates('usage_minutes', id)).toEqual(expected([e1, e2], 60_000));
    expect(await aggregates('usage_hours', id)).toEqual(expected([e1, e2], 3_600_000));
    expect(
      await count('SELECT count(*) AS n FROM usage_dead_letters WHERE agent_id = $1', [a.id]),
    ).toBe(0);
  }, 60_000);

  it('counts once an event reused in a later batch applied in another transaction (the rerun with per-event dedupe)', async () => {
    const a = await enrol();
    const id = await createLease();
    const signer = new RawSigner(a.id, a.key);
    const agent = newAgent(a);
    const [s1, s2] = await samples(id, 0, 2);
    const e1 = agent.buildEvent(s1, new Date());
    const e2 = agent.buildEvent(s2, new Date());
    const seqOf = async () =>
      (await pool.query('SELECT last_seq::int AS seq FROM agents WHERE id = $1', [a.id])).rows[0]
        .seq as number | null;
    await sendRaw(a.id, await signer.sign([e1]));
    await expectEventually(async () => expect(await seqOf()).toBe(0));
    // Applied and committed: the next batch's insert of e1 meets the stored key.
    await sendRaw(a.id, await signer.sign([e2, e1]));
    await expectEventually(async () => expect(await seqOf()).toBe(1));
    expect(await count('SELECT count(*) AS n FROM usage_events WHERE lease_id = $1', [id])).toBe(2);
    expect(await aggregates('usage_minutes', id)).toEqual(expected([e1, e2], 60_000));
    expect(await aggregates('usage_hours', id)).toEqual(expected([e1, e2], 3_600_000));
    expect(await count('SELECT count(*) AS n FROM agent_batches WHERE agent_id = $1', [a.id])).toBe(
      2,
    );
  }, 60_000);

  it('adds to a lease-minute that has a row already (half-minute windows in separate transactions)', async () => {
    const a = await enrol();
    const id = await createLease();
    const agent = newAgent(a);
    const seqOf = async () =>
      (await pool.query('SELECT last_seq::int AS seq FROM agents WHERE id = $1', [a.id])).rows[0]
        .seq as number | null;
    const half = async (from: number, to: number): Promise<UsageSample> => {
      const window = {
        start: new Date(minute(0).start.getTime() + from * 1000),
        end: new Date(minute(0).start.getTime() + to * 1000),
      };
      return { lease: lease(id), window, usage: await collector.sample(lease(id), window) };
    };
    // 00:00-00:30 first, committed; then 00:30-01:00 (same minute: its row exists) and, after it,
    // a fresh minute and another half that meets an existing row again.
    const sent: SentBatch[] = [await agent.sendBatch([await half(0, 30)])];
    await expectEventually(async () => expect(await seqOf()).toBe(0));
    sent.push(await agent.sendBatch([await half(30, 60)]));
    await expectEventually(async () => expect(await seqOf()).toBe(1));
    sent.push(await agent.sendBatch([await half(60, 90)]));
    await expectEventually(async () => expect(await seqOf()).toBe(2));
    sent.push(await agent.sendBatch([await half(90, 120)]));
    await expectEventually(async () => expect(await seqOf()).toBe(3));
    const events = sent.flatMap((b) => b.events);
    expect(await count('SELECT count(*) AS n FROM usage_events WHERE lease_id = $1', [id])).toBe(4);
    expect(await aggregates('usage_minutes', id)).toEqual(expected(events, 60_000));
    expect(await aggregates('usage_hours', id)).toEqual(expected(events, 3_600_000));
    expect(await count('SELECT count(*) AS n FROM usage_minutes WHERE lease_id = $1', [id])).toBe(
      2,
    );
  }, 60_000);

  it('dead-letters bad signatures, chain gaps and invalid events, in the table and on the DLQ topic', async () => {
    const a = await enrol();
    const id = await createLease();
    const agent = newAgent(a);
    const signer = new RawSigner(a.id, a.key);
    const ev = async (n: number, leaseFor = id) =>
      agent.buildEvent((await samples(leaseFor, n, 1))[0], new Date());

    // bad_signature: a batch for this agent signed with another key; and an unknown agent.
    const forger = await generateSigningKey();
    const forged = await signJws(
      {
        schemaVersion: 1,
        batchId: randomUUID(),
        agent: a.id,
        seq: 0,
        prev: ZERO_HASH,
        events: [await ev(0)],
      },
      forger.privateJwk,
    );
    await sendRaw(a.id, forged);
    const stranger = new RawSigner('86.R03.E00042/000999#zz', forger);
    await sendRaw(stranger.agentId, await stranger.sign([await ev(0)]));

    // seq 0: one good event and one of each event-level failure.
    const good = await ev(0);
    const outside = agent.buildEvent(
      {
        lease: lease(id),
        window: { start: new Date('2025-12-31T23:59:00Z'), end: new Date('2026-01-01T00:00:00Z') },
        usage: { duration_s: '60', cpu_core_s: '60' },
      },
      new Date(),
    );
    const mismatch = await ev(1);
    mismatch.data.units = { ...mismatch.data.units, 'scu.ai': '9.000000000' };
    const over = agent.buildEvent(
      { lease: lease(id), window: minute(2), usage: { duration_s: '60', acc_s: { H200: '481' } } },
      new Date(),
    );
    const unknown = await ev(3, randomUUID());
    const foreign = await ev(4, foreignLeaseId);
    const late = await ev(5, lateLeaseId);
    const endedEarly = await createLease();
    await pool.query(
      `UPDATE metering_leases SET ended_at = starts_at + interval '10 minutes' WHERE id = $1`,
      [endedEarly],
    );
    const afterEnd = await ev(20, endedEarly);
    await sendRaw(
      a.id,
      await signer.sign([good, outside, mismatch, over, unknown, foreign, late, afterEnd]),
    );

    // seq 2 (seq 1 missing): chain_gap, events not applied, the chain resyncs there …
    signer.seq = 2;
    const gapEvent = await ev(10);
    await sendRaw(a.id, await signer.sign([gapEvent]));
    // … so seq 3 is accepted again.
    const afterGap = await ev(11);
    await sendRaw(a.id, await signer.sign([afterGap]));
    // seq 3 again with other content: chain_gap, the head stays at 3.
    await sendRaw(a.id, await signer.sign([await ev(12)], { seq: 3 }));

    const expectedReasons = [
      'bad_signature',
      'bad_signature',
      'chain_gap',
      'chain_gap',
      'late',
      'outside_lease',
      'outside_lease',
      'over_capacity',
      'unknown_lease',
      'unknown_lease',
      'units_mismatch',
    ].sort();
    const reasonsOf = async () =>
      (
        await pool.query<{ reason: string }>(
          `SELECT reason FROM usage_dead_letters WHERE agent_id = ANY($1) ORDER BY reason`,
          [[a.id, stranger.agentId]],
        )
      ).rows
        .map((r) => r.reason)
        .sort();
    await expectEventually(async () => expect(await reasonsOf()).toEqual(expectedReasons));
    await expectEventually(async () => {
      const mine = dlq.filter((d) => d.value.agent === a.id || d.value.agent === stranger.agentId);
      expect(mine.map((d) => d.value.reason).sort()).toEqual(expectedReasons);
    });
    const onTopic = dlq.filter((d) => d.value.agent === a.id);
    for (const d of onTopic) {
      expect(d.headers['schema-version']).toBe('1');
      expect(d.headers['event-id']).toMatch(/^dead-letter:/);
      expect(d.value.schemaVersion).toBe(1);
    }
    const mm = onTopic.find((d) => d.value.reason === 'units_mismatch');
    expect(mm?.value).toMatchObject({
      eventId: mismatch.id,
      seq: 0,
      raw: null,
      event: { id: mismatch.id },
    });
    const bad = onTopic.find((d) => d.value.reason === 'bad_signature');
    expect(bad?.value.raw).toBe(forged);
    const gaps = onTopic.filter((d) => d.value.reason === 'chain_gap').map((d) => d.value.detail);
    expect(gaps.sort()).toEqual([
      'seq 2 follows 0: 1 batch(es) missing; chain resynced at seq 2',
      'seq 3 was already used with other content',
    ]);

    // Applied: the good event of seq 0 and the event of seq 3; nothing else.
    expect(
      (
        await pool.query<{ event_id: string }>(
          'SELECT event_id FROM usage_events WHERE source = $1 ORDER BY event_id',
          [a.id],
        )
      ).rows.map((r) => r.event_id),
    ).toEqual([good.id, afterGap.id].sort());
    expect(await aggregates('usage_minutes', id)).toEqual(expected([good, afterGap], 60_000));
    const { rows } = await pool.query('SELECT last_seq::int AS seq FROM agents WHERE id = $1', [
      a.id,
    ]);
    expect(rows[0].seq).toBe(3);
    // Dead-letter rows stay visible with their lease when it exists.
    expect(
      await count(
        `SELECT count(*) AS n FROM usage_dead_letters WHERE agent_id = $1 AND reason = 'late' AND lease_id = $2`,
        [a.id, lateLeaseId],
      ),
    ).toBe(1);
  }, 60_000);

  it('loses nothing and double-counts nothing across a stop/restart and a crash before the offset commit', async () => {
    const a = await enrol();
    const id = await createLease();
    const agent = newAgent(a);
    const sent: SentBatch[] = [];
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const from = sent.length * 5;
        sent.push(await agent.sendBatch(await samples(id, from, 5)));
      }
    };
    await sendSome(5);
    // Stop mid-stream while the agent keeps sending.
    const sending = sendSome(10);
    await new Promise((r) => setTimeout(r, 150));
    await ingest?.stop();
    ingest = null;
    await sending;
    await sendSome(5);

    // Restart with two crashes injected: one inside the transaction (rolled back), one after the
    // DB commit and before the offsets are committed. Both batches are redelivered.
    let crashes = 0;
    let rollbacks = 0;
    const restarted = await start({
      beforeDbCommit: () => {
        if (rollbacks === 0) {
          rollbacks++;
          throw new Error('simulated crash inside the transaction');
        }
      },
      afterDbCommit: () => {
        if (crashes === 0) {
          crashes++;
          throw new Error('simulated crash before the offset commit');
        }
      },
    });
    await sendSome(5);
    const events = sent.flatMap((s) => s.events);
    await expectEventually(
      async () => {
        expect(
          await count('SELECT count(*) AS n FROM usage_events WHERE lease_id = $1', [id]),
        ).toBe(events.length);
        expect(await aggregates('usage_minutes', id)).toEqual(expected(events, 60_000));
      },
      { timeoutMs: 60_000 },
    );
    expect(crashes).toBe(1);
    expect(rollbacks).toBe(1);
    expect(await aggregates('usage_hours', id)).toEqual(expected(events, 3_600_000));
    // Let any redelivery land, then check again: still exact.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await aggregates('usage_minutes', id)).toEqual(expected(events, 60_000));
    expect(
      restarted.stats().redeliveries + restarted.stats().duplicateEvents,
    ).toBeGreaterThanOrEqual(0);
    expect(
      await count('SELECT count(*) AS n FROM usage_dead_letters WHERE agent_id = $1', [a.id]),
    ).toBe(0);
  }, 120_000);

  it('learns leases from the lease events of the market (exchange.lease.v1) and meters against them', async () => {
    const a = await enrol();
    const id = randomUUID();
    const event = leaseStarted(id);
    const publish = (e: LeaseEvent) =>
      producer.send({
        topic: leaseTopic,
        messages: [{ key: e.leaseId, value: JSON.stringify(e) }],
      });
    await publish(event);
    await expectEventually(async () => {
      expect(await count('SELECT count(*) AS n FROM metering_leases WHERE id = $1', [id])).toBe(1);
    });
    const agent = newAgent(a);
    const sent = await agent.sendBatch(await samples(id, 0, 3));
    await expectEventually(async () => {
      expect(await aggregates('usage_minutes', id)).toEqual(expected(sent.events, 60_000));
    });
    // The lease ends early and is invoiced: later windows are outside it; an older event
    // (redelivered) never overwrites the newer state.
    const ended: LeaseEvent = {
      ...event,
      eventId: randomUUID(),
      type: 'lease.ended',
      endedAt: '2026-01-01T01:00:00.000Z',
      invoicedAt: '2026-01-01T01:00:05.000Z',
      occurredAt: '2026-01-01T01:00:05.000Z',
    };
    await publish(ended);
    await publish(event);
    await expectEventually(async () => {
      const { rows } = await pool.query<{ state: string; ended_at: Date | null }>(
        'SELECT state, ended_at FROM metering_leases WHERE id = $1',
        [id],
      );
      expect(rows[0]).toEqual({ state: 'ended', ended_at: new Date(ended.endedAt ?? '') });
    });
    await agent.sendBatch(await samples(id, 70, 1));
    await expectEventually(async () => {
      expect(
        await count(
          `SELECT count(*) AS n FROM usage_dead_letters WHERE lease_id = $1 AND reason = 'outside_lease'`,
          [id],
        ),
      ).toBe(1);
    });
  }, 60_000);

  it('applies unsigned CloudEvents (HTTP ingest envelope) only where the offer accepts them', async () => {
    const open = await createLease();
    await pool.query('UPDATE metering_leases SET accepts_unsigned = true WHERE id = $1', [open]);
    const closed = await createLease();
    const source = `collector-${randomUUID().slice(0, 8)}`;
    const agent = newAgent({ id: source, key: await generateSigningKey() });
    const eOpen = agent.buildEvent((await samples(open, 0, 1))[0], new Date());
    const eClosed = agent.buildEvent((await samples(closed, 0, 1))[0], new Date());
    const envelope: UnsignedUsageEnvelope = {
      schemaVersion: 1,
      unsigned: true,
      org: orgId,
      apiKeyId: randomUUID(),
      receivedAt: new Date().toISOString(),
      events: [eOpen, eClosed],
    };
    const foreign: UnsignedUsageEnvelope = { ...envelope, org: randomUUID(), events: [eOpen] };
    for (const env of [envelope, envelope, foreign]) {
      await producer.send({
        topic: usageTopic,
        messages: [
          { key: env.org, value: JSON.stringify(env), headers: { 'usage-auth': 'unsigned' } },
        ],
      });
    }
    await expectEventually(async () => {
      expect(
        await count(
          `SELECT count(*) AS n FROM usage_dead_letters WHERE event_id = $1 AND reason = 'unknown_lease'`,
          [eOpen.id],
        ),
      ).toBe(1);
    });
    expect(await aggregates('usage_minutes', open)).toEqual(expected([eOpen], 60_000));
    const { rows } = await pool.query<{ signed: boolean }>(
      'SELECT signed FROM usage_events WHERE source = $1',
      [source],
    );
    expect(rows).toEqual([{ signed: false }]);
    const refused = await pool.query<{ reason: string; detail: string }>(
      'SELECT reason, detail FROM usage_dead_letters WHERE lease_id = $1',
      [closed],
    );
    expect(refused.rows).toHaveLength(1);
    expect(refused.rows[0].reason).toBe('bad_signature');
    expect(refused.rows[0].detail).toMatch(/^unsigned usage refused/);
  }, 60_000);

  it('exposes lag, throughput and dead letters by reason as Prometheus metrics', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const res = await scrapeMetrics(`http://127.0.0.1:${ingest?.port}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^metering_ingest_events_applied_total [1-9]\d*$/m);
    expect(text).toMatch(/^metering_ingest_events_per_second \d+(\.\d)?$/m);
    expect(text).toContain(`metering_ingest_consumer_lag{topic="${usageTopic}",partition="0"}`);
    expect(text).toContain(`metering_ingest_consumer_lag{topic="${leaseTopic}",partition="0"}`);
    // The earlier tests dead-lettered events for these reasons (counted from the database).
    expect(text).toMatch(/^metering_dead_letters\{reason="bad_signature"\} [1-9]\d*$/m);
    expect(text).toMatch(/^metering_dead_letters\{reason="units_mismatch"\} [1-9]\d*$/m);
  }, 30_000);

  it('answers the health probes', async () => {
    const port = ingest?.port;
    const live = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'up',
      checks: { postgres: 'up', kafka: 'up', consumer: 'up' },
    });
  });

  it('restarts a consumer that stopped fetching the lease topic, then applies its lease events', async () => {
    await ingest?.stop();
    // The new consumer stops fetching the lease topic (as a Kafka client stuck after a broker
    // failure does): only the stall watch can get the lease event applied.
    let paused = 0;
    const stalled = await startIngest({
      ...config,
      stallMs: 3_000,
      hooks: {
        onConsumer: (c) => {
          if (paused++ === 0) c.pause([{ topic: leaseTopic }]);
        },
      },
    });
    ingest = stalled;
    const id = randomUUID();
    const event = leaseStarted(id);
    await producer.send({
      topic: leaseTopic,
      messages: [{ key: id, value: JSON.stringify(event) }],
    });
    await expectEventually(
      async () => {
        expect(await count('SELECT count(*) AS n FROM metering_leases WHERE id = $1', [id])).toBe(
          1,
        );
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(paused).toBe(2); // paused once, then a fresh consumer after the stall
    expect(stalled.stats().consumerRestarts).toBe(1);
    const text = await (await scrapeMetrics(`http://127.0.0.1:${stalled.port}`)).text();
    expect(text).toMatch(/^metering_ingest_consumer_restarts_total 1$/m);
    await stalled.stop();
    await start();
  }, 120_000);

  it('replaces a consumer that kafkajs gave up after an error it does not retry, losing nothing', async () => {
    await ingest?.stop();
    // An error marked not retriable makes kafkajs leave the group and stop for good (its crash
    // event says restart: false); the process would look healthy and consume nothing.
    let fatal = 0;
    const crashed = await startIngest({
      ...config,
      hooks: {
        beforeDbCommit: () => {
          if (fatal++ === 0) {
            throw Object.assign(new Error('simulated fatal error'), { retriable: false });
          }
        },
      },
    });
    ingest = crashed;
    const a = await enrol();
    const id = await createLease();
    const sent = await newAgent(a).sendBatch(await samples(id, 0, 5));
    await expectEventually(
      async () => {
        expect(
          await count('SELECT count(*) AS n FROM usage_events WHERE lease_id = $1', [id]),
        ).toBe(sent.events.length);
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(await aggregates('usage_minutes', id)).toEqual(expected(sent.events, 60_000));
    expect(fatal).toBeGreaterThanOrEqual(2); // rolled back once, applied by the new consumer
    expect(crashed.stats().consumerRestarts).toBe(1);
    await crashed.stop();
    await start();
  }, 120_000);

  it('sustains a load of signed batches (throughput and latency figures)', async () => {
    const agents = await Promise.all([0, 1, 2, 3].map(() => enrol()));
    const id = await createLease();
    const perBatch = 250;
    const batchesPerAgent = 10;
    // The real agent signs every batch; a capturing producer keeps the messages so that the
    // pipeline (Kafka → ingest → PostgreSQL) is timed on its own.
    const captured: { key: string; value: string; headers: Record<string, string> }[] = [];
    const capture = {
      send: async (r: {
        messages: { key: string; value: string; headers: Record<string, string> }[];
      }) => {
        captured.push(...r.messages);
        return [];
      },
    } as unknown as Producer;
    const all: UsageEvent[] = [];
    const signStart = Date.now();
    for (const [k, a] of agents.entries()) {
      const agent = new MeteringAgent({
        agentId: a.id,
        privateJwk: a.key.privateJwk,
        producer: capture,
      });
      for (let b = 0; b < batchesPerAgent; b++) {
        const from = (k * batchesPerAgent + b) * perBatch;
        all.push(...(await agent.sendBatch(await samples(id, from, perBatch))).events);
      }
    }
    const signMs = Date.now() - signStart;
    const started = Date.now();
    // One message per send (a batch of 250 events is ~190 KB; a request is capped at 1 MB), in
    // order per agent (out of order would be a chain gap), the agents in parallel.
    await Promise.all(
      agents.map(async (a) => {
        for (const m of captured.filter((c) => c.key === a.id)) {
          await producer.send({ topic: usageTopic, messages: [m] });
        }
      }),
    );
    const sentMs = Date.now() - started;
    const batchesBefore = ingest?.stats().kafkaBatches ?? 0;
    await expectEventually(
      async () =>
        expect(
          await count('SELECT count(*) AS n FROM usage_events WHERE lease_id = $1', [id]),
        ).toBe(all.length),
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    const ms = Date.now() - started;
    expect(await aggregates('usage_hours', id)).toEqual(expected(all, 3_600_000));
    expect(await aggregates('usage_minutes', id)).toEqual(expected(all, 60_000));

    // Latency at low load: one single-event batch, from acknowledged send to queryable.
    const solo = await enrol();
    const one = newAgent(solo);
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = await one.sendBatch(await samples(id, 20_000 + i, 1));
      const t0 = Date.now();
      await expectEventually(
        async () =>
          expect(
            await count(
              'SELECT count(*) AS n FROM usage_events WHERE source = $1 AND event_id = $2',
              [solo.id, s.events[0].id],
            ),
          ).toBe(1),
        { intervalMs: 5 },
      );
      latencies.push(Date.now() - t0);
    }
    latencies.sort((x, y) => x - y);
    console.log(
      `metering load: agent built+signed ${all.length} events (${captured.length} batches) in ${signMs} ms ` +
        `(${Math.round((all.length * 1000) / signMs)} events/s); pipeline applied them in ${ms} ms ` +
        `(${Math.round((all.length * 1000) / ms)} events/s; sending took ${sentMs} ms; ` +
        `${(ingest?.stats().kafkaBatches ?? 0) - batchesBefore} Kafka batches/transactions); ` +
        `single-event latency send→queryable ` +
        `median ${latencies[5]} ms, max ${latencies[9]} ms`,
    );
    expect(latencies[9]).toBeLessThan(2000);
  }, 120_000);
});
