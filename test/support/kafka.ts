import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the tests with `npm test`');
  return brokers.split(',');
}

/** Topics of a test's own (unique names), so suites never read each other's messages. */
export interface TestTopics {
  topics: Record<string, string>;
  drop(): Promise<void>;
}

export async function createTestTopics(names: Record<string, number>): Promise<TestTopics> {
  const suffix = randomBytes(4).toString('hex');
  const kafka = new Kafka({
    clientId: 'test-admin',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const topics: Record<string, string> = {};
  for (const base of Object.keys(names)) topics[base] = `${base}.t${suffix}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.entries(names).map(([base, numPartitions]) => ({
      topic: topics[base],
      numPartitions,
    })),
  });
  return {
    topics,
    async drop() {
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/**
 * The exchange's three topics as a test's own, with the market API's lease-event relay and usage
 * producer pointed at them (env read when the API starts) and the relay polling every 100 ms.
 */
export async function useExchangeTestTopics(): Promise<TestTopics> {
  const created = await createTestTopics({
    'exchange.usage.v1': 3,
    'exchange.usage.dlq.v1': 1,
    'exchange.lease.v1': 3,
  });
  process.env.LEASE_TOPIC = created.topics['exchange.lease.v1'];
  process.env.USAGE_TOPIC = created.topics['exchange.usage.v1'];
  process.env.LEASE_EVENTS_RELAY_MS = '100';
  return created;
}
