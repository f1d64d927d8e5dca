import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startIngest, type RunningIngest } from '../../apps/metering/src/ingest/ingest.js';
import { kafkaBrokers, type TestTopics, useExchangeTestTopics } from './kafka.js';
import { startMarketApi, type TestMarketApi } from './market-api.js';

export interface UsageStack {
  api: TestMarketApi;
  ingest: RunningIngest;
  /** A small pool on the test database, for assertions. */
  pool: pg.Pool;
  topics: TestTopics;
  close(): Promise<void>;
}

/**
 * The real market API and metering ingest on a fresh database and this test's own topics: the
 * API's lease-event relay and usage producer write to them, the ingest reads them.
 */
export async function startUsageStack(
  name: string,
  opts: Parameters<typeof startMarketApi>[0] = {},
): Promise<UsageStack> {
  const topics = await useExchangeTestTopics();
  const api = await startMarketApi(opts);
  const pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  process.env.INGEST_QUIET = '1';
  const ingest = await startIngest({
    databaseUrl: api.databaseUrl,
    kafkaBrokers: kafkaBrokers(),
    usageTopic: topics.topics['exchange.usage.v1'],
    dlqTopic: topics.topics['exchange.usage.dlq.v1'],
    leaseTopic: topics.topics['exchange.lease.v1'],
    leaseWaitMs: 10_000,
    groupId: `${name}-${randomUUID()}`,
    port: 0,
    lateGraceHours: 24,
  });
  return {
    api,
    ingest,
    pool,
    topics,
    async close() {
      await ingest.stop();
      await pool.end();
      await api.close();
      await topics.drop();
      delete process.env.LEASE_TOPIC;
      delete process.env.USAGE_TOPIC;
      delete process.env.LEASE_EVENTS_RELAY_MS;
    },
  };
}
