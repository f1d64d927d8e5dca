// The capacity rule on real PostgreSQL and Kafka (issue 18, item 1; docs/decisions.md, "Usage
// never exceeds what the lease can deliver"): copies of one window, re-identified and under other
// sources, signed by several agents and posted unsigned, applied by two ingests at once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import type { UnsignedUsageEnvelope, UsageEvent } from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import { createTestTopics, kafkaBrokers } from '../../../../test/support/kafka.js';
import { MeteringAgent } from '../agent/agent.js';
import type { ActiveLease, UsageSample } from '../agent/types.js';
import { applyMessages } from './apply.js';
import { startIngest, type RunningIngest } from './ingest.js';

// The probe's lease: one slot of 8 vCPUs, 12 minutes.
const SPEC = { cpu: 8, memGiB: 32 };
const CRI = 'CRI1:86.R03.E00042:I:CN-GZ.GA1:GEN-VM:C8.M32:000201:U';
const LEASE_START = Date.parse('2026-01-01T00:00:00Z');
const LEASE_END = LEASE_START + 12 * 60_000;

let db: TestDatabase;
let pool: pg.Pool;
let topics: Awaited<ReturnType<typeof createTestTopics>>;
let producer: Producer;
const ingests: RunningIngest[] = [];
let orgId: string;
const resourceId = randomUUID();

const lease = (id: string): ActiveLease => ({
  leaseId: id,
  cri: CRI,
  class: 'GEN',
  spec: SPEC,
  slots: 1,
  startsAt: new Date(LEASE_START).toISOString(),
  endsAt: new Date(LEASE_END).toISOString(),
  catalogVersion: '2026.1',
});

/** A window from `from` to `to` seconds into the lease at full load (8 cores all the time). */
function fullLoad(id: string, from: number, to: number): UsageSample {
  const seconds = to - from;
  return {
    lease: lease(id),
    window: {
      start: new Date(LEASE_START + from * 1000),
      end: new Date(LEASE_START + to * 1000),
    },
    usage: {
      duration_s: String(seconds),
      cpu_core_s: String(8 * seconds),
      mem_gib_s: String(32 * seconds),
    },
  };
}

async function createLease(): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO metering_leases (id, resource_id, seller_org_id, state, cri, class, spec, slots,
                                  starts_at, ends_at, catalog_version, accepts_unsigned, event_at, event_id)
     VALUES ($1, $2, $3, 'active', $4, 'GEN', $5, 1, $6, $7, '2026.1', true, $6, $8)`,
    [
      id,
      resourceId,
      orgId,
      CRI,
      JSON.stringify(SPEC),
      new Date(LEASE_START),
      new Date(LEASE_END),
      randomUUID(),
    ],
  );
  return id;
}

async function enrolAgent(): Promise<MeteringAgent> {
  const key = await generateSigningKey();
  const id = `86.R03.E00042/000201#${randomUUID().slice(0, 8)}`;
  await pool.query(
    'INSERT INTO agents (id, resource_id, kid, public_jwk) VALUES ($1, $2, $3, $4)',
    [id, resourceId, key.kid, JSON.stringify(key.publicJwk)],
  );
  return new MeteringAgent({
    agentId: id,
    privateJwk: key.privateJwk,
    producer,
    topic: topics.topics['exchange.usage.v1'],
  });
}

/** The same event under a new id and another source (what an HTTP collector may send). */
function reidentified(e: UsageEvent, source: string): UsageEvent {
  return { ...e, id: randomUUID(), source };
}

function envelope(events: UsageEvent[]): UnsignedUsageEnvelope {
  return {
    schemaVersion: 1,
    unsigned: true,
    org: orgId,
    apiKeyId: randomUUID(),
    receivedAt: new Date().toISOString(),
    events,
  };
}

async function one<T>(sql: string, params: unknown[]): Promise<T> {
  return (await pool.query(sql, params)).rows[0] as T;
}

/**
 * Waits until `events` events of the lease are decided (applied or dead-lettered) and answers how
 * many were applied.
 */
async function appliedOnceDecided(leaseId: string, events: number): Promise<number> {
  const counts = () =>
    one<{ applied: number; dead: number }>(
      `SELECT (SELECT count(*) FROM usage_events WHERE lease_id = $1)::int AS applied,
              (SELECT count(*) FROM usage_dead_letters WHERE lease_id = $1)::int AS dead`,
      [leaseId],
    );
  await expectEventually(
    async () => {
      const c = await counts();
      expect(c.applied + c.dead).toBe(events);
    },
    { timeoutMs: 60_000 },
  );
  return (await counts()).applied;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 16 });
  topics = await createTestTopics({
    'exchange.usage.v1': 3,
    'exchange.usage.dlq.v1': 1,
    'exchange.lease.v1': 1,
  });
  orgId = randomUUID();
  await pool.query(
    `INSERT INTO organizations (id, name, roles, industry) VALUES ($1, 'Seller', '{seller}', 'I')`,
    [orgId],
  );
  await pool.query(
    `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry, class, form,
                            country, subdivision, site, spec, state)
     VALUES ($1, '86.R03.E00042/000201', $2, 'VM', $3, '86.R03.E00042', '000201', 'I', 'GEN', 'VM',
             'CN', 'GZ', 'GA1', $4, 'running')`,
    [resourceId, CRI, orgId, JSON.stringify(SPEC)],
  );
  const kafka = new Kafka({
    clientId: 'capacity-int',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  process.env.INGEST_QUIET = '1';
  // Two ingests in one consumer group: the partitions (and so the agents) are shared between
  // them, and each applies its partitions at once, on its own connections.
  const groupId = `capacity-${randomUUID()}`;
  for (let i = 0; i < 2; i++) {
    ingests.push(
      await startIngest({
        databaseUrl: db.url,
        kafkaBrokers: kafkaBrokers(),
        usageTopic: topics.topics['exchange.usage.v1'],
        dlqTopic: topics.topics['exchange.usage.dlq.v1'],
        leaseTopic: topics.topics['exchange.lease.v1'],
        groupId,
        port: 0,
        lateGraceHours: 24,
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const i of ingests) await i.stop();
  await producer?.disconnect();
  await pool?.end();
  await topics?.drop();
  await db?.drop();
}, 60_000);

describe('usage never exceeds what the lease can deliver (PostgreSQL + Kafka)', () => {
  it('applies one of 200 copies of a 30-second window on a 1-slot, 8-vCPU lease, whatever their ids and sources', async () => {
    const id = await createLease();
    const agents = await Promise.all([enrolAgent(), enrolAgent(), enrolAgent(), enrolAgent()]);
    const copy = fullLoad(id, 0, 30);
    const template = agents[0]?.buildEvent(copy, new Date()) as UsageEvent;
    // 4 agents × 2 batches × 20 copies (every event its own id), and 40 unsigned copies, each
    // under a source of its own, in two envelopes: all sent at once.
    await Promise.all([
      ...agents.map(async (agent) => {
        for (let b = 0; b < 2; b++) await agent.sendBatch(Array.from({ length: 20 }, () => copy));
      }),
      ...[0, 1].map((n) =>
        producer.send({
          topic: topics.topics['exchange.usage.v1'],
          messages: [
            {
              key: `collector-${n}`,
              value: JSON.stringify(
                envelope(
                  Array.from({ length: 20 }, (_, i) =>
                    reidentified(template, `collector-${n}-${i}`),
                  ),
                ),
              ),
              headers: { 'usage-auth': 'unsigned' },
            },
          ],
        }),
      ),
    ]);
    expect(await appliedOnceDecided(id, 200)).toBe(1);
    const refused = await pool.query<{ reason: string; detail: string }>(
      'SELECT reason, detail FROM usage_dead_letters WHERE lease_id = $1',
      [id],
    );
    expect(refused.rows).toHaveLength(199);
    expect(new Set(refused.rows.map((r) => r.reason))).toEqual(new Set(['over_capacity']));
    // Each dead letter keeps its event, as sent (signed or not).
    expect(
      await one(
        `SELECT count(*)::int AS n FROM usage_dead_letters
          WHERE lease_id = $1 AND event->>'subject' = $1::text AND event->'data'->'usage' IS NOT NULL`,
        [id],
      ),
    ).toEqual({ n: 199 });
    expect(refused.rows[0]?.detail).toMatch(
      /^cpu_core_s of the minute from 2026-01-01T00:00:00.000Z would total 480, more than the lease can deliver: 8 per second × 30 s of the minute covered = 240$/,
    );
    // The aggregates hold one copy: what 8 vCPUs deliver in 30 s.
    expect(
      await one('SELECT scu_gen::text, mem_gib_h::text FROM usage_minutes WHERE lease_id = $1', [
        id,
      ]),
    ).toEqual({
      scu_gen: template.data.units['scu.gen'],
      mem_gib_h: template.data.units['mem.gib_h'],
    });
    expect(
      await one(`SELECT quantity::text FROM usage_hours WHERE lease_id = $1 AND unit = 'scu.gen'`, [
        id,
      ]),
    ).toEqual({ quantity: template.data.units['scu.gen'] });
    expect(
      await one(
        'SELECT covered, cpu_core_s::text, mem_gib_s::text FROM usage_minutes WHERE lease_id = $1',
        [id],
      ),
    ).toEqual({ covered: [0, 30_000], cpu_core_s: '240', mem_gib_s: '960' });

    // Later, in other transactions: the minute's other half still fits, a window that would
    // cover minute 0 again (from minute 0 to 10, at full load) does not, and one over minutes
    // 1 to 10 (nothing there yet) does, crossing minutes.
    const agent = agents[1] as MeteringAgent;
    await agent.sendBatch([fullLoad(id, 30, 60)]);
    await agent.sendBatch([fullLoad(id, 0, 600)]);
    await agent.sendBatch([fullLoad(id, 60, 600)]);
    expect(await appliedOnceDecided(id, 203)).toBe(3);
    // Never more than 8 core-seconds a second in any minute.
    const { rows } = await pool.query<{ minute: number; covered: number[]; cpu: string }>(
      `SELECT (extract(epoch FROM bucket - $2::timestamptz) / 60)::int AS minute, covered,
              cpu_core_s::text AS cpu
         FROM usage_minutes WHERE lease_id = $1 AND cpu_core_s IS NOT NULL ORDER BY bucket`,
      [id, new Date(LEASE_START)],
    );
    expect(rows).toEqual(
      Array.from({ length: 10 }, (_, m) => ({
        minute: m,
        covered: [0, 60_000],
        cpu: m === 0 ? '480' : '480.000000000000000000',
      })),
    );
  }, 120_000);

  it('holds under concurrent transactions on the same lease-minute (real PostgreSQL, no Kafka)', async () => {
    const id = await createLease();
    const agents = [await enrolAgent()];
    const template = agents[0]?.buildEvent(fullLoad(id, 120, 150), new Date()) as UsageEvent;
    // 3 rounds of 12 transactions at once, each one copy under a source of its own: whichever
    // commits first, the others find its row (or wait for it) and refuse theirs.
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          applyMessages(
            pool,
            [
              {
                partition: 0,
                offset: String(round * 12 + i),
                key: null,
                unsigned: true,
                value: JSON.stringify(envelope([reidentified(template, `c-${round}-${i}`)])),
              },
            ],
            { now: new Date(), lateGraceHours: 24 },
          ),
        ),
      );
    }
    expect(
      await one('SELECT count(*)::int AS n FROM usage_events WHERE lease_id = $1', [id]),
    ).toEqual({ n: 1 });
    expect(
      await one(
        `SELECT count(*)::int AS n FROM usage_dead_letters WHERE lease_id = $1 AND reason = 'over_capacity'`,
        [id],
      ),
    ).toEqual({ n: 35 });
    expect(
      await one('SELECT covered, cpu_core_s::text FROM usage_minutes WHERE lease_id = $1', [id]),
    ).toEqual({ covered: [0, 30_000], cpu_core_s: '240' });
  }, 120_000);
});
