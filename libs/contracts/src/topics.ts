import { z } from 'zod';
import { decimalString } from './api.js';

/** Topic names: versioned, never reused for another payload. */
export const TOPICS = {
  usage: 'exchange.usage.v1',
  usageDlq: 'exchange.usage.dlq.v1',
} as const;

/** Every Kafka message carries these headers. */
export const HEADER_EVENT_ID = 'event-id';
export const HEADER_SCHEMA_VERSION = 'schema-version';

export const USAGE_EVENT_TYPE = 'exchange.usage.v1';

export const rawUsageSchema = z
  .object({
    duration_s: decimalString,
    cpu_core_s: decimalString.optional(),
    mem_gib_s: decimalString.optional(),
    acc_s: z.record(z.string().regex(/^[A-Z0-9]{1,16}$/), decimalString).optional(),
    sto_gib_s: decimalString.optional(),
    egress_bytes: decimalString.optional(),
    api_calls: decimalString.optional(),
  })
  .strict();

export const usageEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(128),
  source: z.string().min(1).max(128),
  type: z.literal(USAGE_EVENT_TYPE),
  subject: z.string().uuid(),
  time: z.string().datetime({ offset: true }),
  datacontenttype: z.literal('application/json').optional(),
  data: z.object({
    cri: z.string().max(128),
    window: z.object({
      start: z.string().datetime({ offset: true }),
      end: z.string().datetime({ offset: true }),
    }),
    usage: rawUsageSchema,
    units: z.record(z.string(), decimalString),
    catalog: z.string().min(1).max(16),
  }),
});
export type UsageEvent = z.infer<typeof usageEventSchema>;

/** The JWS payload of one Kafka message on `exchange.usage.v1`. */
export const usageBatchSchema = z.object({
  schemaVersion: z.literal(1),
  batchId: z.string().min(1).max(128),
  agent: z.string().min(1).max(128),
  seq: z.number().int().nonnegative(),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  events: z.array(usageEventSchema).min(1).max(1000),
});
export type UsageBatch = z.infer<typeof usageBatchSchema>;

export const DLQ_REASONS = [
  'bad_signature',
  'schema',
  'unknown_lease',
  'outside_lease',
  'over_capacity',
  'units_mismatch',
  'late',
  'chain_gap',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];

export interface UsageDeadLetter {
  schemaVersion: 1;
  eventId: string;
  reason: DlqReason;
  detail: string;
  agent: string | null;
  seq: number | null;
  /** The usage event, when the failure concerns one event of a batch. */
  event: unknown;
  /** The original message value, when the whole batch failed. */
  raw: string | null;
  at: string;
}

/** Topic → payload map: producers and consumers type their messages through it. */
export interface TopicPayloads {
  [TOPICS.usage]: string; // compact JWS of a UsageBatch
  [TOPICS.usageDlq]: UsageDeadLetter;
}

export const ZERO_HASH = '0'.repeat(64);
