import { z } from 'zod';
import { isoInstant } from './api.js';
import { DLQ_REASONS } from './topics.js';

// ---------- API keys ----------
export const API_KEY_SCOPES = ['usage:write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const createApiKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
  })
  .strict();
export type CreateApiKeyRequest = z.infer<typeof createApiKeySchema>;

export interface ApiKeyView {
  id: string;
  name: string;
  /** The key's first characters (`sk_AbCd1234`), to tell keys apart. */
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Answer of `POST /v1/api-keys`: the secret is shown this once and never again. */
export interface CreatedApiKeyView extends ApiKeyView {
  secret: string;
}

// ---------- usage ingest (HTTP) and dead letters ----------
export interface UsageIngestAccepted {
  /** How many events were accepted (all of the request's, or none: 400). */
  accepted: number;
  /** Their ids, in the order they were sent. */
  ids: string[];
  /**
   * The events that came without `units`: the exchange rates their raw usage with the unit
   * catalog version given here (the one the event named, else the current one).
   */
  rated: { id: string; catalog: string }[];
}

export const deadLettersQuerySchema = z.object({
  /**
   * Only refusals for this reason: `bad_signature`, `schema`, `unknown_lease`, `outside_lease`,
   * `over_capacity`, `units_mismatch`, `late` or `chain_gap` (docs/metering.md).
   */
  reason: z.enum(DLQ_REASONS).optional(),
  /** Only events of this lease (a UUID). */
  lease: z.string().uuid().optional(),
  /** Only events of this resource (a UUID). */
  resource: z.string().uuid().optional(),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type DeadLettersQuery = z.infer<typeof deadLettersQuerySchema>;

export interface DeadLetterView {
  id: string;
  reason: string;
  detail: string;
  agentId: string | null;
  seq: string | null;
  eventId: string | null;
  leaseId: string | null;
  /** The refused event, when one event of a batch was refused. */
  event: unknown;
  /** Size of the original message when the whole batch was refused (its text is not returned). */
  rawBytes: number | null;
  createdAt: string;
  publishedAt: string | null;
}

export interface DeadLetterPage {
  items: DeadLetterView[];
  nextCursor: string | null;
}

export const resourceUsageQuerySchema = z.object({
  granularity: z.enum(['minute', 'hour']).default('hour'),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
});
