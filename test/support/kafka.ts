import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the tests with `npm test`');
  return brokers.split(',');
}

/** Topics of a test's own (unique names), so suites never read each other's messages. */
export async function createTestTopics(
  names: Record<string, number>,
): Promise<{ topics: Record<string, string>; drop(): Promise<void> }> {
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
