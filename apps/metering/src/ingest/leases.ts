// The ingest's own read model of leases (`metering_leases`), built from the market's lease
// events on `exchange.lease.v1`. Usage is validated against it; market tables are never read.
import type { Pool, PoolClient } from 'pg';
import { leaseEventSchema, type LeaseEvent, type ResourceSpec } from '@suanli/contracts';
import type { ComputeClass } from '@suanli/units';
import type { LeaseFacts } from './validate.js';

export interface LeaseEventsResult {
  applied: number;
  /** Messages that are not valid lease events (logged and skipped: the market's bug). */
  invalid: number;
}

/** Parses lease event messages; invalid ones are reported through `onInvalid`. */
export function parseLeaseEvents(
  values: (string | null)[],
  onInvalid: (value: string | null, reason: string) => void = () => undefined,
): LeaseEvent[] {
  const out: LeaseEvent[] = [];
  for (const value of values) {
    if (value === null) {
      onInvalid(value, 'empty message');
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      onInvalid(value, 'not JSON');
      continue;
    }
    const r = leaseEventSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      onInvalid(value, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
      continue;
    }
    out.push(r.data as LeaseEvent);
  }
  return out;
}

/**
 * Upserts lease events into `metering_leases` in one statement; an event older than the row's
 * (`occurredAt` < `event_at`) never overwrites it, so redelivery and replays are harmless.
 * Within one call the last event per lease wins (they arrive in order: key = lease id).
 */
export async function applyLeaseEvents(
  db: Pool | PoolClient,
  events: LeaseEvent[],
  /** Lease id → its originating correlation id (the `x-lease-correlation-id` header). */
  origins: ReadonlyMap<string, string> = new Map(),
): Promise<number> {
  if (events.length === 0) return 0;
  const last = new Map<string, LeaseEvent>();
  for (const e of events) {
    const cur = last.get(e.leaseId);
    if (cur === undefined || Date.parse(e.occurredAt) >= Date.parse(cur.occurredAt)) {
      last.set(e.leaseId, e);
    }
  }
  const rows = [...last.values()].sort((a, b) => (a.leaseId < b.leaseId ? -1 : 1));
  const state = (t: LeaseEvent['type']) =>
    t === 'lease.ended' ? 'ended' : t === 'lease.suspended' ? 'suspended' : 'active';
  const { rowCount } = await db.query(
    `INSERT INTO metering_leases (id, resource_id, seller_org_id, state, cri, class, spec, cpu_model,
                                  slots, starts_at, ends_at, ended_at, invoiced_at, catalog_version,
                                  accepts_unsigned, event_at, event_id, correlation_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                          $7::jsonb[], $8::text[], $9::int[], $10::timestamptz[], $11::timestamptz[],
                          $12::timestamptz[], $13::timestamptz[], $14::text[], $15::boolean[],
                          $16::timestamptz[], $17::text[], $18::text[])
     ON CONFLICT (id) DO UPDATE SET
       state = EXCLUDED.state, cri = EXCLUDED.cri, class = EXCLUDED.class, spec = EXCLUDED.spec,
       cpu_model = EXCLUDED.cpu_model, slots = EXCLUDED.slots, starts_at = EXCLUDED.starts_at,
       ends_at = EXCLUDED.ends_at, ended_at = EXCLUDED.ended_at,
       invoiced_at = COALESCE(EXCLUDED.invoiced_at, metering_leases.invoiced_at),
       catalog_version = EXCLUDED.catalog_version, accepts_unsigned = EXCLUDED.accepts_unsigned,
       event_at = EXCLUDED.event_at, event_id = EXCLUDED.event_id,
       correlation_id = COALESCE(metering_leases.correlation_id, EXCLUDED.correlation_id)
     WHERE metering_leases.event_at <= EXCLUDED.event_at`,
    [
      rows.map((e) => e.leaseId),
      rows.map((e) => e.resourceId),
      rows.map((e) => e.sellerOrgId),
      rows.map((e) => state(e.type)),
      rows.map((e) => e.cri),
      rows.map((e) => e.class),
      rows.map((e) => JSON.stringify(e.spec)),
      rows.map((e) => e.cpuModel),
      rows.map((e) => e.slots),
      rows.map((e) => e.startsAt),
      rows.map((e) => e.endsAt),
      rows.map((e) => e.endedAt),
      rows.map((e) => e.invoicedAt),
      rows.map((e) => e.catalogVersion),
      rows.map((e) => e.acceptsUnsigned),
      rows.map((e) => e.occurredAt),
      rows.map((e) => e.eventId),
      rows.map((e) => origins.get(e.leaseId) ?? null),
    ],
  );
  return rowCount ?? 0;
}

export interface MeteringLease extends LeaseFacts {
  sellerOrgId: string;
  acceptsUnsigned: boolean;
  /** The lease's originating correlation id (its order request's), when the market sent one. */
  correlationId: string | null;
}

/** The leases among `ids` the ingest knows (one query for a whole Kafka batch). */
export async function loadLeases(
  client: PoolClient,
  ids: string[],
): Promise<Map<string, MeteringLease>> {
  const out = new Map<string, MeteringLease>();
  if (ids.length === 0) return out;
  const { rows } = await client.query<{
    id: string;
    resource_id: string;
    seller_org_id: string;
    starts_at: Date;
    ends_at: Date;
    ended_at: Date | null;
    invoiced_at: Date | null;
    slots: number;
    catalog_version: string;
    class: ComputeClass;
    spec: ResourceSpec;
    cpu_model: string | null;
    accepts_unsigned: boolean;
    correlation_id: string | null;
  }>(
    `SELECT id, resource_id, seller_org_id, starts_at, ends_at, ended_at, invoiced_at, slots,
            catalog_version, class, spec, cpu_model, accepts_unsigned, correlation_id
       FROM metering_leases WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  for (const r of rows) {
    out.set(r.id, {
      id: r.id,
      resourceId: r.resource_id,
      sellerOrgId: r.seller_org_id,
      startsAt: r.starts_at,
      // A lease that ended early accepts no usage after it ended.
      endsAt: r.ended_at !== null && r.ended_at < r.ends_at ? r.ended_at : r.ends_at,
      slots: r.slots,
      catalogVersion: r.catalog_version,
      computeClass: r.class,
      spec: r.spec,
      cpuModel: r.cpu_model,
      invoiceIssuedAt: r.invoiced_at,
      acceptsUnsigned: r.accepts_unsigned,
      correlationId: r.correlation_id,
    });
  }
  return out;
}
