// The local services `npm test` provides (tools/dev/test.ts sets the env) really work.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import pg from 'pg';
import { TOPICS } from './services.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const databaseUrl = process.env.DATABASE_URL;
const stripeBase = process.env.STRIPE_API_BASE ?? 'http://127.0.0.1:12111';

describe('Kafka', () => {
  const kafka = new Kafka({ clientId: 'services-int-spec', brokers, logLevel: logLevel.NOTHING });
  const topic = `dev.selftest.${randomUUID()}`;
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('has the exchange topics with their partition counts', async () => {
    const meta = await admin.fetchTopicMetadata({ topics: TOPICS.map((t) => t.topic) });
    const partitions = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({
      'exchange.usage.v1': 3,
      'exchange.usage.dlq.v1': 1,
      'exchange.lease.v1': 3,
    });
  });

  it('does not create topics on demand', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: `dev.absent.${randomUUID()}`, messages: [{ value: 'x' }] }),
      ).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
  });

  it('delivers a produced message to a consumer', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const value = `hello ${randomUUID()}`;
    await producer.send({
      topic,
      messages: [{ key: 'agent-1', value, headers: { 'event-id': 'e1', 'schema-version': '1' } }],
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `selftest-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: string; eventId: string }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 20 s')), 20_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve({
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              eventId: message.headers?.['event-id']?.toString() ?? '',
            });
          },
        });
      },
    );
    await consumer.disconnect();
    expect(received).toEqual({ key: 'agent-1', value, eventId: 'e1' });
  }, 30_000);
});

describe('PostgreSQL', () => {
  it('answers on DATABASE_URL', async () => {
    expect(databaseUrl).toBeDefined();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const r = await client.query<{ db: string; v: string }>(
        'SELECT current_database() AS db, current_setting($1) AS v',
        ['server_version_num'],
      );
      expect(r.rows[0]?.db).toBe(new URL(databaseUrl ?? '').pathname.slice(1));
      expect(Number(r.rows[0]?.v)).toBeGreaterThanOrEqual(150000);
    } finally {
      await client.end();
    }
  });
});

describe('stripe-mock', () => {
  it('answers Stripe API calls', async () => {
    const res = await fetch(`${stripeBase}/v1/customers`, {
      headers: { Authorization: 'Bearer sk_test_123' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string };
    expect(body.object).toBe('list');
  });
});
