import type { Consumer } from 'kafkajs';
import { z } from 'zod';
import { TOPICS } from '@suanli/contracts';

export interface IngestConfig {
  databaseUrl: string;
  kafkaBrokers: string[];
  usageTopic: string;
  dlqTopic: string;
  /** The market's lease events (`exchange.lease.v1`): the ingest's read model of leases. */
  leaseTopic: string;
  groupId: string;
  /** Health server port; 0 picks a free one (tests). */
  port: number;
  /**
   * Bearer token Prometheus sends to `GET /metrics` (`METRICS_TOKEN`); unset: no `/metrics`
   * (404). The health probes stay open. docs/operations.md, "Metrics".
   */
  metricsToken?: string;
  lateGraceHours: number;
  /**
   * How long a usage message naming a lease the ingest does not know yet is held back (its
   * lease event may still be on its way), counted from the message's Kafka timestamp; after
   * that its events are `unknown_lease`. Default 30 000 ms.
   */
  leaseWaitMs?: number;
  /**
   * Partitions applied at once, each in its own transaction on its own connection (kafkajs
   * `partitionsConsumedConcurrently`). Default 3: the usage topic's partitions.
   */
  concurrency?: number;
  /**
   * How long a partition this instance owns may have messages waiting with no committed progress
   * before the consumer is restarted (plus `leaseWaitMs` on the usage topic). Default 60 000 ms.
   */
  stallMs?: number;
  /** Test hooks; production leaves them unset. */
  hooks?: IngestHooks;
  now?: () => Date;
}

export interface IngestHooks {
  /** Called inside a Kafka batch's transaction before COMMIT; throwing rolls it back (a crash). */
  beforeDbCommit?: (info: { partition: number; lastOffset: string }) => void | Promise<void>;
  /**
   * Called after a Kafka batch's database transaction committed and before its offsets are
   * committed; throwing here simulates a crash in that gap (the batch is redelivered).
   */
  afterDbCommit?: (info: { partition: number; lastOffset: string }) => void | Promise<void>;
  /** Called with the Kafka consumer each time it starts consuming (again, after a restart). */
  onConsumer?: (consumer: Consumer) => void;
}

const envSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()))
    .refine((bs) => bs.every((b) => /^[^\s:]+:\d+$/.test(b)), 'must be host:port[,host:port…]'),
  USAGE_TOPIC: z.string().min(1).default(TOPICS.usage),
  DLQ_TOPIC: z.string().min(1).default(TOPICS.usageDlq),
  LEASE_TOPIC: z.string().min(1).default(TOPICS.lease),
  GROUP_ID: z.string().min(1).default('metering-ingest'),
  INGEST_PORT: z.coerce.number().int().min(0).max(65535).default(3101),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(3),
  LEASE_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  CONSUMER_STALL_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  LATE_GRACE_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 366)
    .default(24),
});

/** Reads and validates the ingest's environment; throws listing every problem (fail fast). */
export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const r = envSchema.safeParse(env);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid metering ingest configuration: ${problems}`);
  }
  const e = r.data;
  return {
    databaseUrl: e.DATABASE_URL,
    kafkaBrokers: e.KAFKA_BROKERS,
    usageTopic: e.USAGE_TOPIC,
    dlqTopic: e.DLQ_TOPIC,
    leaseTopic: e.LEASE_TOPIC,
    groupId: e.GROUP_ID,
    port: e.INGEST_PORT,
    metricsToken: e.METRICS_TOKEN,
    lateGraceHours: e.LATE_GRACE_HOURS,
    leaseWaitMs: e.LEASE_WAIT_MS,
    stallMs: e.CONSUMER_STALL_MS,
    concurrency: e.INGEST_CONCURRENCY,
  };
}
