import {
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type Producer,
} from 'kafkajs';
import pg from 'pg';
import { HEADER_EVENT_ID, HEADER_USAGE_AUTH } from '@suanli/contracts';
import { registerLz4Codec } from '../shared/lz4-codec.js';
import { applyMessages, type ApplyResult } from './apply.js';
import type { IngestConfig } from './config.js';
import { publishPendingDeadLetters } from './dlq.js';
import { startHealthServer } from './health.js';
import { applyLeaseEvents, parseLeaseEvents } from './leases.js';
import {
  HEADER_CORRELATION_ID,
  HEADER_LEASE_CORRELATION_ID,
  RateMeter,
  renderMetrics,
  type Counters,
  type LagSample,
  type ReasonCount,
} from './metrics.js';
import { partitionKey, StallWatch, type OffsetSample, type Stall } from './stall-watch.js';

export type IngestStats = Counters;

export interface RunningIngest {
  /** The health server's port (useful when the config asked for port 0). */
  port: number;
  stats(): IngestStats;
  /** Drains: the batch in progress finishes and commits, then everything closes. */
  stop(): Promise<void>;
}

function log(level: 'info' | 'error', msg: string, extra: Record<string, unknown> = {}): void {
  const line = JSON.stringify({
    at: new Date().toISOString(),
    level,
    service: 'metering-ingest',
    msg,
    ...extra,
  });
  if (level === 'error') console.error(line);
  else if (process.env.INGEST_QUIET !== '1') console.log(line);
}

/**
 * Starts the exactly-once usage ingest: a kafkajs consumer (eachBatch, manual offsets) that
 * applies each Kafka batch in one PostgreSQL transaction and commits the offsets only after it,
 * the dead-letter outbox publisher and the health server.
 */
export async function startIngest(config: IngestConfig): Promise<RunningIngest> {
  registerLz4Codec(); // agents send LZ4 batches
  const concurrency = config.concurrency ?? 3;
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    // One connection per partition in flight, plus the meters and the dead-letter publisher.
    max: concurrency + 5,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
  });
  // An idle client whose server went away (a PostgreSQL failover) emits 'error' on the pool:
  // log it; the pool drops that client and the next query connects again.
  pool.on('error', (err) => log('error', 'postgres connection lost', { error: err.message }));
  // A checked-out client losing its server emits 'error' too (its query fails as well): without
  // a listener that would crash the process instead of failing one batch, which is retried.
  pool.on('connect', (client) => {
    client.on('error', (err) => log('error', 'postgres connection lost', { error: err.message }));
  });
  await pool.query('SELECT 1'); // fail fast on a bad DATABASE_URL

  const kafka = new Kafka({
    clientId: `metering-ingest-${process.pid}`,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // The partitions the current consumer owns (its last group assignment), for the stall watch.
  let owned = new Set<string>();
  const newConsumer = (): Consumer => {
    const c = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250,
      // Larger fetches → larger Kafka batches → fewer, bigger transactions under load.
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    // kafkajs gives a consumer up after an error it does not retry: it leaves the group and
    // never fetches again, while this process looks healthy. Replace it as a stalled one.
    c.on(c.events.CRASH, (e) => {
      if (!e.payload.restart && c === consumer) {
        replaceConsumer('consumer crashed and kafkajs gave it up: replacing it', {
          error: String(e.payload.error),
        });
      }
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      owned = new Set(
        Object.entries(e.payload.memberAssignment).flatMap(([topic, ps]) =>
          ps.map((p) => partitionKey(topic, p)),
        ),
      );
    });
    return c;
  };
  let consumer = newConsumer();
  await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);

  const stats: IngestStats = {
    kafkaBatches: 0,
    messages: 0,
    applied: 0,
    duplicateEvents: 0,
    redeliveries: 0,
    deadLetters: 0,
    deadLettersPublished: 0,
    leaseEvents: 0,
    held: 0,
    consumerRestarts: 0,
  };
  const batchSeconds = { sum: 0, count: 0 };
  const rate = new RateMeter();
  let lag: LagSample[] = [];
  let deadLettersByReason: ReasonCount[] = [];
  const countDeadLetters = async () => {
    const r = await pool.query<{ reason: string; n: string }>(
      'SELECT reason, COUNT(*)::text AS n FROM usage_dead_letters GROUP BY reason',
    );
    deadLettersByReason = r.rows.map((row) => ({ reason: row.reason, count: Number(row.n) }));
  };
  const stallMs = config.stallMs ?? 60_000;
  // Held usage batches wait up to leaseWaitMs on purpose: the usage topic gets that much more.
  const watch = new StallWatch((topic) =>
    topic === config.usageTopic ? stallMs + (config.leaseWaitMs ?? 0) : stallMs,
  );
  const measureLag = async () => {
    const out: (LagSample & OffsetSample)[] = [];
    const topics = [config.usageTopic, config.leaseTopic];
    const committed = await admin.fetchOffsets({ groupId: config.groupId, topics });
    for (const topic of topics) {
      const high = await admin.fetchTopicOffsets(topic);
      const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const p of high) {
        const c = mine.find((x) => x.partition === p.partition)?.offset ?? '-1';
        const low = BigInt(p.low);
        const from = BigInt(c) < 0n ? low : BigInt(c);
        out.push({
          topic,
          partition: p.partition,
          offset: from.toString(),
          lag: Number(BigInt(p.high) - from),
        });
      }
    }
    lag = out;
    const stalls = watch.observe(out, owned);
    if (stalls.length > 0) replaceConsumer('consumer stalled: restarting it', { stalls });
  };
  const meter = setInterval(() => {
    rate.sample(stats.applied);
    void measureLag().catch(() => undefined);
    void countDeadLetters().catch(() => undefined);
  }, 2_000);
  rate.sample(0);

  let publishing: Promise<void> = Promise.resolve();
  const publishDeadLetters = (): Promise<void> => {
    publishing = publishing
      .then(async () => {
        stats.deadLettersPublished += await publishPendingDeadLetters(
          pool,
          producer,
          config.dlqTopic,
        );
      })
      .catch((err: unknown) => log('error', 'dead-letter publish failed', { error: String(err) }));
    return publishing;
  };
  // Dead letters left unpublished by a previous run (crash between commit and publish).
  await publishDeadLetters();
  const sweep = setInterval(() => void publishDeadLetters(), 10_000);

  const commit = async (topic: string, partition: number, lastOffset: string) => {
    await consumer.commitOffsets([
      { topic, partition, offset: (BigInt(lastOffset) + 1n).toString() },
    ]);
  };

  const eachBatch = async ({
    batch,
    heartbeat,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload) => {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const started = process.hrtime.bigint();
    const lastOffset = batch.lastOffset();
    if (batch.topic === config.leaseTopic) {
      const events = parseLeaseEvents(
        batch.messages.map((m) => (m.value === null ? null : m.value.toString('utf8'))),
        (_value, reason) => log('error', 'invalid lease event skipped', { reason }),
      );
      // The lease's originating correlation id is kept with the lease (metering_leases), so
      // that usage applied later is logged with it too.
      const origins = new Map<string, string>();
      for (const m of batch.messages) {
        const origin = m.headers?.[HEADER_LEASE_CORRELATION_ID]?.toString();
        const leaseId = m.key?.toString();
        if (origin && leaseId) origins.set(leaseId, origin);
      }
      await applyLeaseEvents(pool, events, origins);
      // One line per lease event: `correlationId` is the lease's originating id (its order
      // request's), `requestCorrelationId` the id of the request that caused this event.
      for (const m of batch.messages) {
        const leaseId = m.key?.toString();
        const request = m.headers?.[HEADER_CORRELATION_ID]?.toString();
        log('info', 'lease event applied', {
          leaseId,
          eventId: m.headers?.[HEADER_EVENT_ID]?.toString(),
          correlationId: (leaseId && origins.get(leaseId)) || request,
          ...(request ? { requestCorrelationId: request } : {}),
        });
      }
      resolveOffset(lastOffset);
      await commit(batch.topic, batch.partition, lastOffset);
      stats.leaseEvents += events.length;
      await heartbeat();
      return;
    }
    const messages = batch.messages.map((m) => ({
      partition: batch.partition,
      offset: m.offset,
      key: m.key === null ? null : m.key.toString('utf8'),
      // The bytes as they are: hashed and verified without a copy (a batch is ≈ 400 kB).
      value: m.value,
      unsigned: String(m.headers?.[HEADER_USAGE_AUTH] ?? '') === 'unsigned',
      timestamp: Number(m.timestamp),
    }));
    const before = config.hooks?.beforeDbCommit;
    const result: ApplyResult = await applyMessages(pool, messages, {
      now: config.now?.() ?? new Date(),
      lateGraceHours: config.lateGraceHours,
      leaseWaitMs: config.leaseWaitMs,
      ...(before ? { beforeCommit: () => before({ partition: batch.partition, lastOffset }) } : {}),
    });
    if (result.held) {
      // A lease this batch names is not known yet (its lease event may be on the way): nothing
      // was written; the offsets stay, so the same messages are fetched again shortly.
      stats.held++;
      await new Promise((r) => setTimeout(r, 250));
      await heartbeat();
      return;
    }
    await config.hooks?.afterDbCommit?.({ partition: batch.partition, lastOffset });
    // The transaction committed: now (and only now) the offsets may move.
    resolveOffset(lastOffset);
    await commit(batch.topic, batch.partition, lastOffset);
    stats.kafkaBatches++;
    stats.messages += result.messages;
    stats.applied += result.applied;
    stats.duplicateEvents += result.duplicateEvents;
    stats.redeliveries += result.redeliveries;
    stats.deadLetters += result.deadLetters;
    // One line per lease and Kafka batch, with the lease's originating correlation id.
    for (const l of result.perLease) {
      log('info', 'usage applied', {
        leaseId: l.leaseId,
        events: l.applied,
        partition: batch.partition,
        ...(l.correlationId ? { correlationId: l.correlationId } : {}),
      });
    }
    batchSeconds.sum += Number(process.hrtime.bigint() - started) / 1e9;
    batchSeconds.count++;
    if (result.deadLetters > 0) await publishDeadLetters();
    await heartbeat();
  };

  const startConsuming = async () => {
    await consumer.subscribe({
      topics: [config.leaseTopic, config.usageTopic],
      fromBeginning: true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: concurrency,
      eachBatch,
    });
    config.hooks?.onConsumer?.(consumer);
  };
  // A stalled consumer is replaced by a new one (a new client: group membership, connections and
  // fetch state; kafkajs does not reliably reconnect a disconnected consumer). It starts from
  // the committed offsets, so nothing is skipped or applied twice.
  let restarting: Promise<void> | null = null;
  let stopping = false;
  function replaceConsumer(why: string, detail: { stalls?: Stall[]; error?: string }): void {
    if (restarting !== null || stopping) return;
    stats.consumerRestarts++;
    log('error', why, detail);
    restarting = (async () => {
      await consumer.disconnect(); // waits for a batch in progress
      owned = new Set();
      if (stopping) return;
      consumer = newConsumer();
      await consumer.connect();
      await startConsuming();
      log('info', 'consumer restarted', { restarts: stats.consumerRestarts });
    })()
      .catch((err: unknown) => log('error', 'consumer restart failed', { error: String(err) }))
      .finally(() => {
        restarting = null;
        watch.reset();
      });
  }
  await startConsuming();

  const health = await startHealthServer(
    config.port,
    {
      postgres: async () => {
        await pool.query('SELECT 1');
      },
      kafka: async () => {
        await admin.describeCluster();
      },
      consumer: async () => {
        if (restarting !== null)
          throw new Error('replacing the Kafka consumer (stalled or given up)');
      },
    },
    () => ({ stats }),
    {
      token: config.metricsToken,
      render: () =>
        renderMetrics({
          counters: stats,
          batchSeconds,
          lag,
          eventsPerSecond: rate.rate(),
          deadLettersByReason,
        }),
    },
  );
  log('info', 'metering ingest started', {
    topic: config.usageTopic,
    leaseTopic: config.leaseTopic,
    groupId: config.groupId,
    port: health.port,
  });

  let stopped: Promise<void> | null = null;
  return {
    port: health.port,
    stats: () => ({ ...stats }),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(sweep);
        clearInterval(meter);
        await restarting;
        await consumer.disconnect(); // waits for the running batch to finish
        await publishing;
        await Promise.all([producer.disconnect(), admin.disconnect()]);
        await new Promise<void>((r) => health.server.close(() => r()));
        await pool.end();
        log('info', 'metering ingest stopped', { stats });
      })();
      return stopped;
    },
  };
}
