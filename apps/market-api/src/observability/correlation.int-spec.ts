// One correlation id from the order request to its settlement (docs/architecture.md,
// "Correlation ids"), on the real API, PostgreSQL, Kafka and ingest: the order's
// X-Correlation-Id is stored with the lease, rides on its lease events, tags the ingest's log
// lines for the lease's events and its signed usage, and the settlement run's log lines and
// debit notes for that lease, next to the run's own id.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import type { OrderView } from '@suanli/contracts';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import {
  kafkaBrokers,
  type TestTopics,
  useExchangeTestTopics,
} from '../../../../test/support/kafka.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { MeteringAgent } from '../../../metering/src/agent/agent.js';
import { startIngest, type RunningIngest } from '../../../metering/src/ingest/ingest.js';
import { SettlementConfig } from '../settlement/settlement.config.js';
import { SettlementScheduler } from '../settlement/settlement.scheduler.js';
import { JsonLogger } from './json-logger.js';

const HOUR = 3600_000;
type Line = Record<string, unknown>;

let api: TestMarketApi;
let ingest: RunningIngest;
let pool: pg.Pool;
let producer: Producer;
let topics: TestTopics;
const apiLines: Line[] = [];
const ingestLines: Line[] = [];

beforeAll(async () => {
  // The API's lease-event relay and usage producer write to this test's own topics.
  topics = await useExchangeTestTopics();
  api = await startMarketApi({
    logger: new JsonLogger('market-api', (line) => apiLines.push(JSON.parse(line) as Line)),
  });
  pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  // The ingest writes its JSON lines with console.log: keep them (and off the test output).
  delete process.env.INGEST_QUIET;
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
    if (typeof line === 'string' && line.startsWith('{')) {
      ingestLines.push(JSON.parse(line) as Line);
    }
  });
  ingest = await startIngest({
    databaseUrl: api.databaseUrl,
    kafkaBrokers: kafkaBrokers(),
    usageTopic: topics.topics['exchange.usage.v1'],
    dlqTopic: topics.topics['exchange.usage.dlq.v1'],
    leaseTopic: topics.topics['exchange.lease.v1'],
    leaseWaitMs: 10_000,
    groupId: `correlation-${randomUUID()}`,
    port: 0,
    lateGraceHours: 24,
  });
  producer = new Kafka({
    clientId: 'correlation-agent',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await producer?.disconnect();
  await ingest?.stop();
  jest.restoreAllMocks();
  await pool?.end();
  await api?.close();
  await topics?.drop();
  delete process.env.LEASE_TOPIC;
  delete process.env.USAGE_TOPIC;
  delete process.env.LEASE_EVENTS_RELAY_MS;
}, 60_000);

const linesWith = (lines: Line[], id: string) => lines.filter((l) => l.correlationId === id);

describe('correlation id from the order request to settlement', () => {
  it('follows an order through its lease events, its usage and its settlement', async () => {
    const { resource, offer, agent, key } = await sellerWithOffer(api);
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
    const correlationId = `order-${randomUUID()}`;

    // 1. HTTP: the order request carries the id; the response echoes it.
    const order = await buyer.client.post<OrderView>(
      '/v1/orders',
      { offerId: offer.id, slots: 1, hours: 1 },
      { 'idempotency-key': randomUUID(), 'x-correlation-id': correlationId },
    );
    expect(order.status).toBe(201);
    expect(order.headers.get('x-correlation-id')).toBe(correlationId);
    const lease = order.body.lease;

    // 2. Stored with the lease (its originating correlation id).
    const stored = await pool.query<{ correlation_id: string }>(
      'SELECT correlation_id FROM leases WHERE id = $1',
      [lease.id],
    );
    expect(stored.rows[0].correlation_id).toBe(correlationId);

    // 3. Kafka → ingest: the lease event's headers reach the ingest's read model and log line.
    await expectEventually(async () => {
      const { rows } = await pool.query<{ correlation_id: string | null }>(
        'SELECT correlation_id FROM metering_leases WHERE id = $1',
        [lease.id],
      );
      expect(rows[0]?.correlation_id).toBe(correlationId);
    });
    expect(linesWith(ingestLines, correlationId)).toContainEqual(
      expect.objectContaining({
        service: 'metering-ingest',
        msg: 'lease event applied',
        leaseId: lease.id,
        requestCorrelationId: correlationId,
      }),
    );

    // 4. The agent's signed usage for the lease: the ingest logs it with the lease's id.
    const metering = new MeteringAgent({
      agentId: agent.id,
      privateJwk: { ...key.privateJwk, kid: key.kid },
      producer,
      topic: topics.topics['exchange.usage.v1'],
    });
    const startsAt = Date.parse(lease.startsAt);
    await metering.sendBatch(
      Array.from({ length: 5 }, (_, i) => ({
        lease: {
          leaseId: lease.id,
          cri: resource.cri,
          class: 'AI' as const,
          catalogVersion: lease.catalogVersion,
        },
        window: {
          start: new Date(startsAt + i * 60_000),
          end: new Date(startsAt + (i + 1) * 60_000),
        },
        usage: { duration_s: '60', acc_s: { H100: '60' } },
      })),
    );
    await expectEventually(() =>
      expect(linesWith(ingestLines, correlationId)).toContainEqual(
        expect.objectContaining({ msg: 'usage applied', leaseId: lease.id, events: 5 }),
      ),
    );

    // 5. Settlement: its own run id; each lease's lines and debit notes carry the lease's id.
    api.clock.advance(2 * HOUR);
    expect(await api.app.get(SettlementScheduler).runOnce()).toBe('ran');
    const notes = await pool.query<{ correlation_id: string; settlement_run_id: string }>(
      `SELECT correlation_id, settlement_run_id FROM debit_notes WHERE lease_id = $1`,
      [lease.id],
    );
    expect(notes.rows).toHaveLength(1);
    expect(notes.rows[0].correlation_id).toBe(correlationId);
    const runId = notes.rows[0].settlement_run_id;
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    const settlementLines = linesWith(apiLines, correlationId).filter((l) => l.runId === runId);
    expect(settlementLines).toContainEqual(
      expect.objectContaining({
        context: 'settlement',
        leaseId: lease.id,
        msg: expect.stringMatching(/^debit note .*: 10\.00 CNY$/),
      }),
    );
    expect(settlementLines).toContainEqual(
      expect.objectContaining({ leaseId: lease.id, msg: `lease ${lease.id} ended (completed)` }),
    );
    // The run's summary line has the run id and no lease's correlation id.
    expect(apiLines).toContainEqual(
      expect.objectContaining({
        context: 'settlement-scheduler',
        runId,
        msg: expect.stringContaining(`settlement run ${runId}`),
      }),
    );
    // The lease.ended event recorded by settlement goes out with the lease's id too.
    await expectEventually(async () => {
      const { rows } = await pool.query<{ state: string }>(
        'SELECT state FROM metering_leases WHERE id = $1',
        [lease.id],
      );
      expect(rows[0]?.state).toBe('ended');
    });
    await expectEventually(() =>
      expect(
        linesWith(ingestLines, correlationId).filter((l) => l.msg === 'lease event applied'),
      ).toHaveLength(2),
    );
  }, 90_000);

  it('the per-lease settlement step records and logs the same ids', async () => {
    const config = api.app.get(SettlementConfig);
    const batchSize = config.batchSize;
    // Without the batched (set-based) run every period goes through the per-lease step.
    Object.assign(config, { batchSize: 0 });
    try {
      const { offer } = await sellerWithOffer(api);
      const buyer = await signUpActor(api, ['buyer']);
      await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
      const correlationId = `order-${randomUUID()}`;
      const order = await buyer.client.post<OrderView>(
        '/v1/orders',
        { offerId: offer.id, slots: 1, hours: 1 },
        { 'idempotency-key': randomUUID(), 'x-correlation-id': correlationId },
      );
      expect(order.status).toBe(201);
      api.clock.advance(2 * HOUR);
      expect(await api.app.get(SettlementScheduler).runOnce()).toBe('ran');
      const notes = await pool.query<{ correlation_id: string; settlement_run_id: string }>(
        'SELECT correlation_id, settlement_run_id FROM debit_notes WHERE lease_id = $1',
        [order.body.lease.id],
      );
      expect(notes.rows).toEqual([
        { correlation_id: correlationId, settlement_run_id: expect.any(String) },
      ]);
      expect(linesWith(apiLines, correlationId)).toContainEqual(
        expect.objectContaining({
          context: 'settlement',
          runId: notes.rows[0].settlement_run_id,
          leaseId: order.body.lease.id,
          msg: expect.stringMatching(/^debit note /),
        }),
      );
    } finally {
      Object.assign(config, { batchSize });
    }
  }, 60_000);
});
