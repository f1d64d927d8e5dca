// The lease-event relay on the real API, PostgreSQL and Kafka, with its producer failing the way
// a broker failure makes it fail: a send whose outcome is unknown (the broker wrote the batch, the
// answer was lost) and a send that never answers. The relay must not stay stuck on either: the
// rows stay unpublished, the producer is replaced, and a later pass delivers them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { buyerWithLease, sellerWithOffer } from '../../../../test/support/actors.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import {
  kafkaBrokers,
  type TestTopics,
  useExchangeTestTopics,
} from '../../../../test/support/kafka.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { scrapeMetrics } from '../../../../test/support/metrics.js';
import { LeaseEventsRelay } from './lease-events.relay.js';

let api: TestMarketApi;
let pool: pg.Pool;
let topics: TestTopics;
let relay: LeaseEventsRelay;
let realProducer: () => Producer;

beforeAll(async () => {
  topics = await useExchangeTestTopics();
  process.env.LEASE_EVENTS_RELAY = 'off'; // no timer: the test runs each pass itself
  api = await startMarketApi();
  pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  relay = api.app.get(LeaseEventsRelay);
  realProducer = relay.createProducer;
}, 120_000);

afterAll(async () => {
  delete process.env.LEASE_EVENTS_RELAY;
  delete process.env.LEASE_TOPIC;
  delete process.env.USAGE_TOPIC;
  delete process.env.LEASE_EVENTS_RELAY_MS;
  await pool?.end();
  await api?.close();
  await topics?.drop();
}, 60_000);

/** Orders a lease: its `lease.started` event lands in the outbox, unpublished. */
async function newLease(): Promise<string> {
  const { offer } = await sellerWithOffer(api);
  return (await buyerWithLease(api, offer.id)).lease.id;
}

const unpublished = async (leaseId: string): Promise<number> =>
  Number(
    (
      await pool.query<{ n: string }>(
        'SELECT COUNT(*)::text AS n FROM lease_events_outbox WHERE lease_id = $1 AND published_at IS NULL',
        [leaseId],
      )
    ).rows[0].n,
  );

/** The event ids of the lease's messages on the lease topic (read from the beginning). */
async function messagesOf(leaseId: string, atLeast: number): Promise<string[]> {
  const kafka = new Kafka({
    clientId: 'relay-test',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `relay-test-${randomUUID()}` });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topics.topics['exchange.lease.v1']], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() === leaseId) {
          seen.push((JSON.parse(message.value?.toString() ?? '{}') as { eventId: string }).eventId);
        }
      },
    });
    await expectEventually(() => expect(seen.length).toBeGreaterThanOrEqual(atLeast), {
      timeoutMs: 30_000,
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function metric(line: RegExp): Promise<number> {
  const text = await (await scrapeMetrics(api.url)).text();
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Producers from `make`, counted. */
function producers(make: (n: number) => Producer): { made: () => number } {
  let n = 0;
  relay.dropProducer(); // the next pass makes one with `make`
  relay.createProducer = () => make(++n);
  return { made: () => n };
}

describe('lease events relay under broker failures', () => {
  it('replaces a producer whose send had an unknown outcome, and delivers the rows', async () => {
    const leaseId = await newLease();
    expect(await unpublished(leaseId)).toBe(1);
    expect(await metric(/^suanli_lease_events_outbox\{part="pending"\} (\S+)$/m)).toBeGreaterThan(
      0,
    );
    const failedBefore = await metric(
      /^suanli_lease_events_relayed_total\{outcome="failed"\} (\S+)$/m,
    );

    // The first producer's send reaches Kafka, then fails as if the answer was lost.
    const made = producers((n) => {
      const p = realProducer();
      if (n === 1) {
        const send = p.send.bind(p);
        p.send = async (record) => {
          await send(record);
          throw new Error('connection closed before the broker answered');
        };
      }
      return p;
    });
    await relay.kick();
    expect(await unpublished(leaseId)).toBe(1); // rolled back: not marked published
    expect(
      await metric(/^suanli_lease_events_relayed_total\{outcome="failed"\} (\S+)$/m),
    ).toBeGreaterThan(failedBefore);

    await relay.kick();
    expect(made.made()).toBe(2); // a fresh producer (a new idempotent producer id)
    expect(await unpublished(leaseId)).toBe(0);
    expect(await metric(/^suanli_lease_events_outbox\{part="pending"\} (\S+)$/m)).toBe(0);
    // At least once: the event is on the topic (twice here; the ingest applies it idempotently).
    const ids = await messagesOf(leaseId, 2);
    expect(new Set(ids).size).toBe(1);
  }, 120_000);

  it('gives up on a send that never answers, and a later pass delivers the rows', async () => {
    const leaseId = await newLease();
    relay.sendTimeoutMs = 1_000;
    const made = producers((n) => {
      const p = realProducer();
      if (n === 1) p.send = () => new Promise(() => undefined); // hangs for ever
      return p;
    });
    const t = Date.now();
    await relay.kick();
    expect(Date.now() - t).toBeLessThan(10_000); // the pass ended; the relay is not stuck
    expect(await unpublished(leaseId)).toBe(1);

    await relay.kick();
    expect(made.made()).toBe(2);
    expect(await unpublished(leaseId)).toBe(0);
    expect(await messagesOf(leaseId, 1)).toHaveLength(1);
    relay.sendTimeoutMs = 60_000;
  }, 120_000);
});
