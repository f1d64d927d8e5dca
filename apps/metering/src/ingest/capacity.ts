// The capacity rule across events (docs/decisions.md, "Usage never exceeds what the lease can
// deliver"): for each lease, metered quantity and minute, the accepted events' usage never sums
// to more than the lease's slots × per-slot capacity × the seconds of that minute their windows
// cover, whatever the events' ids and sources. Pure: the ingest seeds a ledger with the minutes'
// stored state (rows locked), admits each fresh event in order, and writes back what changed.
// Signed (agent) and unsigned (HTTP) usage both reach it through `applyMessages`.
import type { ResourceSpec } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import { addScaled, parseScaled, pow10, type RawUsage, type Scaled } from '@suanli/units';

export const MINUTE_MS = 60_000;

/**
 * The metered quantities with a physical bound, in columns of `usage_minutes`: every billed
 * unit is a fixed rate of one or two of them (api calls have no physical bound, and the window's
 * `duration_s` is not billed).
 */
export const CAPACITY_FIELDS = [
  'cpu_core_s',
  'mem_gib_s',
  'acc_s',
  'sto_gib_s',
  'egress_bytes',
] as const;
export type CapacityField = (typeof CAPACITY_FIELDS)[number];

/** What a lease delivers per second of each quantity: slots × per-slot capacity (null: none). */
export type Capacity = Readonly<Record<CapacityField, Scaled | null>>;

/**
 * One lease-minute's state: which milliseconds of the minute accepted windows cover, and the
 * sum of the accepted events' shares of the minute per quantity.
 */
export interface MinuteLoad {
  /** Offsets in ms within the minute as flat `[start, end)` pairs: sorted, disjoint, apart. */
  covered: number[];
  sums: Partial<Record<CapacityField, Scaled>>;
}

/** What the rule needs of an event that passed validation (window inside the lease, ≤ 1 h). */
export interface CapacityEvent {
  leaseId: string;
  startMs: number;
  endMs: number;
  usage: RawUsage;
}

export type Admission = { ok: true } | { ok: false; detail: string };

/** A share of an event spread over several minutes is rounded up to this many places (at least). */
export const SHARE_DECIMALS = 18;

/** The per-second capacity of `slots` slots of `spec` (egress: Gbit/s as bytes/s). */
export function leaseCapacity(spec: ResourceSpec, slots: number): Capacity {
  const times = (perSlot: unknown, factor = 1): Scaled | null => {
    if (typeof perSlot !== 'number' || !Number.isFinite(perSlot) || perSlot < 0) return null;
    if (Number.isSafeInteger(perSlot) && Number.isSafeInteger(slots)) {
      return { n: BigInt(slots) * BigInt(perSlot) * BigInt(factor), scale: 0 };
    }
    const v = parseScaled(new Decimal(slots).times(perSlot).times(factor).toFixed());
    return v === undefined ? null : v;
  };
  return {
    cpu_core_s: times(spec.cpu),
    mem_gib_s: times(spec.memGiB),
    acc_s: times(spec.accel?.count),
    sto_gib_s: times(spec.storageGiB),
    egress_bytes: times(spec.netGbps, 125_000_000),
  };
}

/** The event's quantity of `field` (acc_s: all models together), or undefined when absent/zero. */
function quantityOf(usage: RawUsage, field: CapacityField): Scaled | undefined | null {
  if (field === 'acc_s') {
    const acc = usage.acc_s;
    if (acc === undefined) return undefined;
    let sum: Scaled | undefined;
    for (const model of Object.keys(acc)) {
      const v = parseScaled(acc[model]);
      if (v === undefined) return null;
      if (v.n !== 0n) sum = sum === undefined ? v : addScaled(sum, v);
    }
    return sum;
  }
  const text = usage[field];
  if (text === undefined) return undefined;
  const v = parseScaled(text);
  if (v === undefined) return null;
  return v.n === 0n ? undefined : v;
}

/** `q × part / whole`, rounded up to at least {@link SHARE_DECIMALS} places (exact when part = whole). */
export function shareOf(q: Scaled, part: number, whole: number): Scaled {
  if (part === whole) return q;
  const scale = Math.max(SHARE_DECIMALS, q.scale);
  const num = q.n * BigInt(part) * pow10(scale - q.scale);
  const den = BigInt(whole);
  return { n: (num + den - 1n) / den, scale };
}

/** a > b, exactly. */
export function scaledGt(a: Scaled, b: Scaled): boolean {
  const s = Math.max(a.scale, b.scale);
  return a.n * pow10(s - a.scale) > b.n * pow10(s - b.scale);
}

/** `v` as a plain decimal without trailing zeros (for people: dead letters' details). */
function plainText(v: Scaled): string {
  const t = scaledText(v);
  return t.includes('.') ? t.replace(/\.?0+$/, '') : t;
}

/** A plain decimal text of `v` (no exponent; trailing zeros kept). */
export function scaledText(v: Scaled): string {
  if (v.scale === 0) return v.n.toString();
  const digits = v.n.toString().padStart(v.scale + 1, '0');
  return `${digits.slice(0, -v.scale)}.${digits.slice(-v.scale)}`;
}

/** `covered` with `[a, b)` added (merged with what it overlaps or touches). */
export function addInterval(covered: readonly number[], a: number, b: number): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < covered.length && (covered[i + 1] as number) < a) {
    out.push(covered[i] as number, covered[i + 1] as number);
    i += 2;
  }
  let lo = a;
  let hi = b;
  while (i < covered.length && (covered[i] as number) <= hi) {
    lo = Math.min(lo, covered[i] as number);
    hi = Math.max(hi, covered[i + 1] as number);
    i += 2;
  }
  out.push(lo, hi);
  for (; i < covered.length; i++) out.push(covered[i] as number);
  return out;
}

/** Milliseconds covered. */
export function coveredMs(covered: readonly number[]): number {
  let ms = 0;
  for (let i = 0; i < covered.length; i += 2)
    ms += (covered[i + 1] as number) - (covered[i] as number);
  return ms;
}

const keyOf = (leaseId: string, minute: number) => `${leaseId}|${minute}`;

/**
 * The lease-minutes an ingest transaction touches, and the rule. Seed it with the stored state of
 * every minute the events' windows cover (absent = nothing accepted there yet), then
 * {@link admit} each event; {@link changed} lists the minutes to write back.
 */
export class CapacityLedger {
  private readonly loads = new Map<string, { leaseId: string; minute: number; load: MinuteLoad }>();
  private readonly dirty = new Set<string>();

  constructor(seed: Iterable<{ leaseId: string; minute: number; load: MinuteLoad }> = []) {
    for (const s of seed) this.loads.set(keyOf(s.leaseId, s.minute), { ...s });
  }

  /**
   * Accepts `e` when, with it, every minute its window covers stays within capacity × the
   * seconds covered; then records it. Otherwise records nothing and says which bound it breaks.
   * A share of an event in a minute is its quantity × the part of its window in that minute,
   * rounded up (windows that cross minutes), so a minute's sum never understates what its
   * events claim of it.
   */
  admit(e: CapacityEvent, cap: Capacity): Admission {
    const span = e.endMs - e.startMs;
    const first = Math.floor(e.startMs / MINUTE_MS);
    const last = Math.floor((e.endMs - 1) / MINUTE_MS);
    const quantities: [CapacityField, Scaled][] = [];
    for (const field of CAPACITY_FIELDS) {
      const q = quantityOf(e.usage, field);
      if (q === null) return { ok: false, detail: `${field} is not a plain decimal` };
      if (q !== undefined) quantities.push([field, q]);
    }
    // The usual case: one window within one minute nothing else covers (validation already
    // bounded the event by capacity × its own seconds).
    if (first === last && !this.loads.has(keyOf(e.leaseId, first))) {
      const sums: Partial<Record<CapacityField, Scaled>> = {};
      for (const [field, q] of quantities) {
        if (cap[field] === null)
          return { ok: false, detail: `${field} but the resource offers none` };
        sums[field] = q;
      }
      const base = first * MINUTE_MS;
      this.set(e.leaseId, first, { covered: [e.startMs - base, e.endMs - base], sums });
      return { ok: true };
    }
    const next: { minute: number; load: MinuteLoad }[] = [];
    for (let m = first; m <= last; m++) {
      const base = m * MINUTE_MS;
      const a = Math.max(e.startMs, base);
      const b = Math.min(e.endMs, base + MINUTE_MS);
      const prior = this.loads.get(keyOf(e.leaseId, m))?.load;
      const covered = addInterval(prior?.covered ?? [], a - base, b - base);
      const ms = coveredMs(covered);
      const sums: Partial<Record<CapacityField, Scaled>> = { ...prior?.sums };
      for (const [field, q] of quantities) {
        const rate = cap[field];
        if (rate === null) return { ok: false, detail: `${field} but the resource offers none` };
        const before = sums[field];
        const share = shareOf(q, b - a, span);
        const total = before === undefined ? share : addScaled(before, share);
        // Bound: rate per second × covered ms / 1000.
        const bound: Scaled = { n: rate.n * BigInt(ms), scale: rate.scale + 3 };
        if (scaledGt(total, bound)) {
          return {
            ok: false,
            detail:
              `${field} of the minute from ${new Date(base).toISOString()} would total ` +
              `${plainText(total)}, more than the lease can deliver: ${plainText(rate)} per ` +
              `second × ${ms / 1000} s of the minute covered = ${plainText(bound)}`,
          };
        }
        sums[field] = total;
      }
      next.push({ minute: m, load: { covered, sums } });
    }
    for (const n of next) this.set(e.leaseId, n.minute, n.load);
    return { ok: true };
  }

  /** The state of a lease-minute (undefined: nothing accepted there). */
  load(leaseId: string, minute: number): MinuteLoad | undefined {
    return this.loads.get(keyOf(leaseId, minute))?.load;
  }

  /** The minutes admitted events changed, sorted by (lease, minute): the rows' lock order. */
  changed(): { leaseId: string; minute: number; load: MinuteLoad }[] {
    const out = [...this.dirty].map(
      (k) => this.loads.get(k) as { leaseId: string; minute: number; load: MinuteLoad },
    );
    return out.sort((x, y) =>
      x.leaseId < y.leaseId ? -1 : x.leaseId > y.leaseId ? 1 : x.minute - y.minute,
    );
  }

  private set(leaseId: string, minute: number, load: MinuteLoad): void {
    const key = keyOf(leaseId, minute);
    this.loads.set(key, { leaseId, minute, load });
    this.dirty.add(key);
  }
}

/** The minutes (since the epoch) a window `[startMs, endMs)` covers. */
export function minutesOf(startMs: number, endMs: number): number[] {
  const out: number[] = [];
  for (let m = Math.floor(startMs / MINUTE_MS); m <= Math.floor((endMs - 1) / MINUTE_MS); m++) {
    out.push(m);
  }
  return out;
}
