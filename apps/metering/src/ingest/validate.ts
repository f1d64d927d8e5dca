import type { DlqReason, UsageEvent } from '@suanli/contracts';
import type { ResourceSpec } from '@suanli/contracts';
import { Decimal, parseDecimal } from '@suanli/money';
import {
  computeUnits,
  parseScaled,
  scaledGreaterThan,
  unitsMatch,
  UnitsError,
  type ComputeClass,
  type RawUsage,
} from '@suanli/units';
import { parseUsageEvent, timeMs } from './fast-event.js';

/** The longest window an event may cover (metering.md). */
export const MAX_WINDOW_SECONDS = 3600;

/** What the ingest knows about an event's lease (one row of leases ⨝ resources ⟕ invoices). */
export interface LeaseFacts {
  id: string;
  resourceId: string;
  startsAt: Date;
  /** The end of the lease: `ends_at`, or `ended_at` when it ended early. */
  endsAt: Date;
  slots: number;
  catalogVersion: string;
  computeClass: ComputeClass;
  spec: ResourceSpec;
  cpuModel: string | null;
  /** When the lease's final invoice was issued, if it was. */
  invoiceIssuedAt: Date | null;
}

export interface EventContext {
  /**
   * The agent that signed the batch, and the resource it is enrolled for; null for unsigned
   * events (HTTP ingest), whose `resourceId` is their lease's.
   */
  agentId: string | null;
  resourceId: string;
  lease: LeaseFacts | undefined;
  now: Date;
  lateGraceHours: number;
}

export type EventVerdict =
  | {
      ok: true;
      event: UsageEvent;
      /** The server's units (authoritative), 9 dp. */
      units: Record<string, string>;
      windowStart: Date;
      windowEnd: Date;
      /**
       * The catalog version the exchange rated the event with, when it came without units
       * (unsigned, HTTP); null when the sender's units were checked.
       */
      ratedCatalog: string | null;
    }
  | { ok: false; reason: DlqReason; detail: string; event: UsageEvent | null };

function sameStrings(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** True for an event object whose `data` has no `units`. */
function unitsLeftOut(raw: unknown): boolean {
  const data = (raw as { data?: unknown } | null)?.data;
  return typeof data === 'object' && data !== null && !('units' in data);
}

/** The event with `data.units` empty, so that the contract's schema checks everything else. */
function withEmptyUnits(raw: unknown): unknown {
  const e = raw as { data: object };
  return { ...e, data: { ...e.data, units: {} } };
}

function fail(reason: DlqReason, detail: string, event: UsageEvent | null): EventVerdict {
  return { ok: false, reason, detail, event };
}

/**
 * The usual case of {@link checkCapacity} on BigInt fixed point: true when every quantity is a
 * plain decimal within its integer bound. Anything else (a violation, an odd spelling, a
 * non-integer spec) answers false and the Decimal path decides and words the verdict.
 */
function withinCapacityFast(
  usage: RawUsage,
  spec: ResourceSpec,
  slots: number,
  seconds: number,
): boolean {
  const span = BigInt(slots) * BigInt(seconds);
  const within = (value: unknown, perSlot: number | undefined): boolean => {
    if (value === undefined) return true;
    const v = parseScaled(value);
    if (v === undefined) return false;
    if (v.n === 0n) return true;
    if (perSlot === undefined || !Number.isSafeInteger(perSlot)) return false;
    return !scaledGreaterThan(v, span * BigInt(perSlot));
  };
  if (!Number.isSafeInteger(slots) || !Number.isSafeInteger(seconds)) return false;
  const duration = parseScaled(usage.duration_s);
  if (duration === undefined || scaledGreaterThan(duration, BigInt(seconds))) return false;
  if (!within(usage.cpu_core_s, spec.cpu)) return false;
  if (!within(usage.mem_gib_s, spec.memGiB)) return false;
  if (!within(usage.sto_gib_s, spec.storageGiB)) return false;
  const egressPerSecond =
    spec.netGbps === undefined || !Number.isSafeInteger(spec.netGbps)
      ? undefined
      : spec.netGbps * 125_000_000; // Gbit/s → bytes/s
  if (!within(usage.egress_bytes, egressPerSecond)) return false;
  const acc: unknown = usage.acc_s;
  if (acc !== undefined) {
    if (typeof acc !== 'object' || acc === null) return false;
    for (const [model, value] of Object.entries(acc)) {
      const count =
        spec.accel !== undefined && spec.accel.model === model ? spec.accel.count : undefined;
      if (!within(value, count)) return false;
    }
  }
  return true;
}

/**
 * Plausibility: what the lease's slots of the resource can physically deliver in `seconds`.
 * Returns the first violation, or null.
 */
export function checkCapacity(
  usage: RawUsage,
  spec: ResourceSpec,
  slots: number,
  seconds: number,
): string | null {
  if (withinCapacityFast(usage, spec, slots, seconds)) return null;
  const span = new Decimal(slots).times(seconds);
  const limit = (field: string, value: string | undefined, perSlot: Decimal.Value | undefined) => {
    if (value === undefined) return null;
    const v = parseDecimal(value);
    if (v.isZero()) return null;
    if (perSlot === undefined) return `${field} ${value} but the resource offers none`;
    const max = span.times(perSlot);
    return v.gt(max)
      ? `${field} ${value} exceeds ${max.toFixed()} (${slots} slot(s) × ${seconds} s)`
      : null;
  };
  if (parseDecimal(usage.duration_s).gt(seconds)) {
    return `duration_s ${usage.duration_s} exceeds the window's ${seconds} s`;
  }
  const checks = [
    limit('cpu_core_s', usage.cpu_core_s, spec.cpu),
    limit('mem_gib_s', usage.mem_gib_s, spec.memGiB),
    limit('sto_gib_s', usage.sto_gib_s, spec.storageGiB),
    limit(
      'egress_bytes',
      usage.egress_bytes,
      spec.netGbps === undefined ? undefined : new Decimal(spec.netGbps).times('1e9').div(8),
    ),
  ];
  for (const [model, value] of Object.entries(usage.acc_s ?? {})) {
    checks.push(
      limit(
        `acc_s.${model}`,
        value,
        spec.accel !== undefined && spec.accel.model === model ? spec.accel.count : undefined,
      ),
    );
  }
  return checks.find((c) => c !== null) ?? null;
}

/**
 * Validates one usage event of a verified, in-chain batch. Pure: everything it needs is in `ctx`.
 * Checks, in order: schema (and source = the signing agent), unknown_lease, outside_lease,
 * over_capacity, units_mismatch, late.
 */
export function validateEvent(raw: unknown, ctx: EventContext): EventVerdict {
  // An unsigned event may leave its units to the exchange (`unsignedUsageEventSchema`); signed
  // batches always carry the units their agent computed and signed.
  const rateHere = ctx.agentId === null && unitsLeftOut(raw);
  const parsed = parseUsageEvent(rateHere ? withEmptyUnits(raw) : raw);
  if (!parsed.success) {
    return fail('schema', `${parsed.issue.path}: ${parsed.issue.message}`, null);
  }
  const event = parsed.data;
  if (ctx.agentId !== null && event.source !== ctx.agentId) {
    return fail('schema', `source ${event.source} is not the signing agent ${ctx.agentId}`, event);
  }

  const lease = ctx.lease;
  if (lease === undefined || lease.id !== event.subject) {
    return fail('unknown_lease', `lease ${event.subject} does not exist`, event);
  }
  if (lease.resourceId !== ctx.resourceId) {
    return fail('unknown_lease', `lease ${event.subject} is not on the agent's resource`, event);
  }

  // Valid times (the schema checked them), parsed once per distinct text.
  const start = new Date(timeMs(event.data.window.start));
  const end = new Date(timeMs(event.data.window.end));
  const ms = end.getTime() - start.getTime();
  if (!(ms > 0) || ms % 1000 !== 0) {
    return fail('outside_lease', 'window must be a positive whole number of seconds', event);
  }
  const seconds = ms / 1000;
  if (seconds > MAX_WINDOW_SECONDS) {
    return fail('outside_lease', `window of ${seconds} s exceeds ${MAX_WINDOW_SECONDS} s`, event);
  }
  if (start < lease.startsAt || end > lease.endsAt) {
    return fail(
      'outside_lease',
      `window ${event.data.window.start}..${event.data.window.end} is outside the lease ` +
        `${lease.startsAt.toISOString()}..${lease.endsAt.toISOString()}`,
      event,
    );
  }

  const over = checkCapacity(event.data.usage, lease.spec, lease.slots, seconds);
  if (over !== null) return fail('over_capacity', over, event);

  let units: Record<string, string>;
  try {
    units = computeUnits(event.data.usage, {
      catalog: lease.catalogVersion,
      class: lease.computeClass,
      ...(lease.cpuModel !== null ? { cpuModel: lease.cpuModel } : {}),
    }) as Record<string, string>;
  } catch (err) {
    if (err instanceof UnitsError) return fail('schema', err.message, event);
    throw err;
  }
  if (event.data.catalog !== lease.catalogVersion) {
    return fail(
      'units_mismatch',
      `rated with catalog ${event.data.catalog}; the lease pins ${lease.catalogVersion}`,
      event,
    );
  }
  // Fast path: the agent's figures as the very same strings (the usual case) match; only
  // otherwise compare as decimals (unitsMatch is ~50 µs per event).
  if (!rateHere && !sameStrings(units, event.data.units) && !unitsMatch(units, event.data.units)) {
    return fail(
      'units_mismatch',
      `agent units ${JSON.stringify(event.data.units)} ≠ server units ${JSON.stringify(units)}`,
      event,
    );
  }

  if (lease.invoiceIssuedAt !== null) {
    const deadline = lease.invoiceIssuedAt.getTime() + ctx.lateGraceHours * 3_600_000;
    if (ctx.now.getTime() > deadline) {
      return fail(
        'late',
        `the lease's invoice was issued ${lease.invoiceIssuedAt.toISOString()}, ` +
          `grace of ${ctx.lateGraceHours} h is over`,
        event,
      );
    }
  }
  return {
    ok: true,
    event,
    units,
    windowStart: start,
    windowEnd: end,
    ratedCatalog: rateHere ? lease.catalogVersion : null,
  };
}
