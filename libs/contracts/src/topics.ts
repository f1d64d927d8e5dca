import { z } from 'zod';
import { decimalString, isoInstant } from './api.js';

/** Topic names: versioned, never reused for another payload. */
export const TOPICS = {
  usage: 'exchange.usage.v1',
  usageDlq: 'exchange.usage.dlq.v1',
  lease: 'exchange.lease.v1',
} as const;

/** Every Kafka message carries these headers. */
export const HEADER_EVENT_ID = 'event-id';
export const HEADER_SCHEMA_VERSION = 'schema-version';
/**
 * On `exchange.usage.v1`: `unsigned` marks a message produced by the HTTP ingest from plain
 * CloudEvents (its value is an `UnsignedUsageEnvelope`, not a JWS).
 */
export const HEADER_USAGE_AUTH = 'usage-auth';

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
  time: isoInstant,
  datacontenttype: z.literal('application/json').optional(),
  data: z.object({
    cri: z.string().max(128),
    window: z.object({
      start: isoInstant,
      end: isoInstant,
    }),
    usage: rawUsageSchema,
    units: z.record(z.string(), decimalString),
    catalog: z.string().min(1).max(16),
  }),
});
export type UsageEvent = z.infer<typeof usageEventSchema>;

/**
 * A usage event as a collector that cannot sign posts it to `POST /v1/usage/events`: like
 * {@link usageEventSchema}, except that `data.units` may be left out, and then `data.catalog`
 * too. Without units the exchange rates the raw `usage` itself, with the catalog version the
 * event names or else the current one, and records which (docs/decisions.md, "CloudEvents
 * over HTTP"). Units sent without the catalog that rated them mean nothing, so they need it.
 */
export const unsignedUsageEventSchema = usageEventSchema
  .extend({
    data: usageEventSchema.shape.data.extend({
      units: usageEventSchema.shape.data.shape.units.optional(),
      catalog: usageEventSchema.shape.data.shape.catalog.optional(),
    }),
  })
  .refine((e) => e.data.units === undefined || e.data.catalog !== undefined, {
    path: ['data', 'catalog'],
    message: 'units need the catalog version they were computed with',
  });
export type UnsignedUsageEvent = z.infer<typeof unsignedUsageEventSchema>;

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

/**
 * The value of an unsigned message on `exchange.usage.v1` (header `usage-auth: unsigned`): plain
 * CloudEvents posted with an API key to `POST /v1/usage/events`. `org` is the organization that
 * owns the API key; the ingest accepts the events only for leases on that organization's
 * resources whose offer accepts unsigned usage.
 */
export interface UnsignedUsageEnvelope {
  schemaVersion: 1;
  unsigned: true;
  /** The organization of the API key that posted the events. */
  org: string;
  /** The API key's id (not the secret). */
  apiKeyId: string;
  receivedAt: string;
  events: unknown[];
}

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
// Unsigned usage (HTTP ingest) for a lease whose offer refuses it is `bad_signature` (detail
// "unsigned usage refused …"): the reason codes stay a closed set (docs/metering.md).
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

export const LEASE_EVENT_TYPES = [
  'lease.started',
  'lease.suspended',
  'lease.resumed',
  'lease.ended',
] as const;
export type LeaseEventType = (typeof LEASE_EVENT_TYPES)[number];

/**
 * A lease's life as the market publishes it on `exchange.lease.v1` (key = lease id, so a
 * lease's events stay in order). The metering ingest keeps its own read model from them.
 */
export interface LeaseEvent {
  eventId: string;
  schemaVersion: 1;
  type: LeaseEventType;
  leaseId: string;
  resourceId: string;
  /** The organization that owns the resource (the seller). */
  sellerOrgId: string;
  cri: string;
  class: 'GEN' | 'AI' | 'HPC';
  /** The resource's per-slot spec. */
  spec: Record<string, unknown>;
  cpuModel: string | null;
  slots: number;
  startsAt: string;
  endsAt: string;
  endedAt: string | null;
  /** When the lease's final invoice was issued (`lease.ended`), else null. */
  invoicedAt: string | null;
  catalogVersion: string;
  /** Whether the lease's offer accepts unsigned usage (HTTP ingest). */
  acceptsUnsigned: boolean;
  occurredAt: string;
  /** Why it happened, when the market says (e.g. `outbid`, `capacity_freed` for interruptible leases). */
  reason?: string;
  /** The lease's state after the change (docs/delivery.md), e.g. `provisioning_failed`. */
  state?: string;
}

export const leaseEventSchema = z.object({
  eventId: z.string().min(1).max(128),
  schemaVersion: z.literal(1),
  type: z.enum(LEASE_EVENT_TYPES),
  leaseId: z.string().uuid(),
  resourceId: z.string().uuid(),
  sellerOrgId: z.string().uuid(),
  cri: z.string().max(128),
  class: z.enum(['GEN', 'AI', 'HPC']),
  spec: z.record(z.string(), z.unknown()),
  cpuModel: z.string().nullable(),
  slots: z.number().int().positive(),
  startsAt: z.string().datetime({ offset: true }),
  endsAt: z.string().datetime({ offset: true }),
  endedAt: z.string().datetime({ offset: true }).nullable(),
  invoicedAt: z.string().datetime({ offset: true }).nullable(),
  catalogVersion: z.string().min(1).max(16),
  acceptsUnsigned: z.boolean(),
  occurredAt: z.string().datetime({ offset: true }),
  reason: z.string().max(64).optional(),
  state: z.string().max(32).optional(),
});

/** Topic → payload map: producers and consumers type their messages through it. */
export interface TopicPayloads {
  [TOPICS.usage]: string; // compact JWS of a UsageBatch, or an UnsignedUsageEnvelope (JSON)
  [TOPICS.usageDlq]: UsageDeadLetter;
  [TOPICS.lease]: LeaseEvent;
}

export const ZERO_HASH = '0'.repeat(64);
