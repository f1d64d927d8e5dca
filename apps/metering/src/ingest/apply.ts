// Applies one Kafka batch of usage messages to PostgreSQL in ONE transaction: signature, schema
// and chain checks per message, per-event validation, deduplicated event rows, aggregate upserts,
// the agents' chain heads, agent_batches, dead letters and resource heartbeats.
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import type { DlqReason } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import { parseScaled, UNIT_CODES, UNIT_COLUMNS, type RawUsage } from '@suanli/units';
import { batchHash, verifyBatch, type Jwk } from '../shared/signing.js';
import {
  CAPACITY_FIELDS,
  CapacityLedger,
  leaseCapacity,
  minutesOf,
  scaledText,
  type Capacity,
  type CapacityField,
  type MinuteLoad,
} from './capacity.js';
import { checkChain, type ChainHead } from './chain.js';
import { loadLeases, type MeteringLease } from './leases.js';
import { validateEvent } from './validate.js';

export interface InboundMessage {
  partition: number;
  offset: string;
  key: string | null;
  /** The message value: the JWS (or unsigned envelope) bytes as Kafka delivered them. */
  value: Buffer | string | null;
  /** Header `usage-auth: unsigned`: plain CloudEvents from the HTTP ingest (no JWS, no chain). */
  unsigned?: boolean;
  /** The Kafka timestamp (ms): how long a message naming an unknown lease may be held back. */
  timestamp?: number;
}

export interface DeadLetterRow {
  dedupeKey: string;
  reason: DlqReason;
  detail: string;
  agentId: string | null;
  seq: number | null;
  eventId: string | null;
  leaseId: string | null;
  event: unknown;
  raw: string | null;
}

export interface ApplyResult {
  messages: number;
  /** Batches that extended their agent's chain. */
  batches: number;
  /** Batches skipped as redeliveries of an accepted batch. */
  redeliveries: number;
  /** Events newly applied to the aggregates. */
  applied: number;
  /** Valid events already applied before (same source + id): counted once. */
  duplicateEvents: number;
  /** Dead letters newly recorded (a redelivered dead letter is not counted again). */
  deadLetters: number;
  /**
   * True when nothing was written because an event names a lease the ingest does not know yet
   * and its message is younger than `leaseWaitMs`: the caller retries the batch later.
   */
  held: boolean;
  /**
   * Events newly applied per lease, with the lease's originating correlation id: the ingest logs
   * one line per lease and Kafka batch (docs/architecture.md, "Correlation ids").
   */
  perLease: { leaseId: string; correlationId: string | null; applied: number }[];
}

export interface ApplyOptions {
  now: Date;
  lateGraceHours: number;
  /** See `IngestConfig.leaseWaitMs`; 0 or unset: unknown leases are dead-lettered at once. */
  leaseWaitMs?: number;
  /** Test hook: runs inside the transaction just before COMMIT (throwing rolls it back). */
  beforeCommit?: () => void | Promise<void>;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The batch envelope; events are validated one by one so one bad event spares the others. */
const envelopeSchema = z.object({
  schemaVersion: z.literal(1),
  batchId: z.string().min(1).max(128),
  agent: z.string().min(1).max(128),
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  events: z.array(z.unknown()).min(1).max(1000),
});

interface AgentRow {
  id: string;
  resourceId: string;
  kid: string;
  publicJwk: Jwk;
  lastSeq: number | null;
  lastHash: string | null;
  revoked: boolean;
}

/** The `agent` claim of a JWS payload, read without verifying (to find the key to verify with). */
export function unverifiedAgent(jws: string): string | null {
  const part = jws.split('.')[1];
  if (part === undefined) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    const agent = (payload as { agent?: unknown } | null)?.agent;
    return typeof agent === 'string' ? agent : null;
  } catch {
    return null;
  }
}

async function loadAgents(client: PoolClient, ids: string[]): Promise<Map<string, AgentRow>> {
  const out = new Map<string, AgentRow>();
  if (ids.length === 0) return out;
  // Locks the agents' rows: two consumers never advance one chain concurrently (rebalances).
  const { rows } = await client.query<{
    id: string;
    resource_id: string;
    kid: string;
    public_jwk: Jwk;
    last_seq: string | null;
    last_hash: string | null;
    revoked: boolean;
  }>(
    `SELECT id, resource_id, kid, public_jwk, last_seq, last_hash, revoked_at IS NOT NULL AS revoked
       FROM agents WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  for (const r of rows) {
    out.set(r.id, {
      id: r.id,
      resourceId: r.resource_id,
      kid: r.kid,
      publicJwk: r.public_jwk,
      lastSeq: r.last_seq === null ? null : Number(r.last_seq),
      lastHash: r.last_hash,
      revoked: r.revoked,
    });
  }
  return out;
}

interface GoodEvent {
  source: string;
  id: string;
  leaseId: string;
  windowStart: Date;
  /** The window as sent (validated RFC 3339): handed to PostgreSQL as text, no Date formatting. */
  windowStartText: string;
  units: Record<string, string>;
  seq: number | null;
  signed: boolean;
  /** The window in epoch ms and the raw usage: what the capacity rule reads. */
  startMs: number;
  endMs: number;
  usage: RawUsage;
  /** The catalog version the exchange rated an unsigned event without units with, else null. */
  ratedCatalog: string | null;
  /** Where the event came from (index into the accepted batches, and in its batch): dead letters. */
  batch: number;
  index: number;
}

/** The unsigned envelope (`UnsignedUsageEnvelope`), its events validated one by one. */
const unsignedEnvelopeSchema = z.object({
  schemaVersion: z.literal(1),
  unsigned: z.literal(true),
  org: z.string().regex(UUID_RE),
  apiKeyId: z.string().min(1).max(128),
  receivedAt: z.string(),
  events: z.array(z.unknown()).min(1).max(1000),
});

const MINUTE = 60_000;

/** One (lease, unit, bucket) sum: 10⁻⁹ integers while exact, Decimal beyond. */
interface BucketSum {
  /** Exact integer of 10⁻⁹ units while below 2⁵³ (the common case: no BigInt per event). */
  small: number;
  big: bigint;
  /** Set once a quantity has more than 9 decimals: the exact sum from then on. */
  dec: Decimal | null;
}

/** `q` as an exact integer of 10⁻⁹ units: a number when it fits, a bigint, or null (> 9 dp). */
function nanoOf(q: string): number | bigint | null {
  if (!NANO_RE.test(q)) return null;
  const dot = q.indexOf('.');
  const int = dot < 0 ? q : q.slice(0, dot);
  const frac = dot < 0 ? 0 : Number(q.slice(dot + 1)) * NANO_SCALE[q.length - dot - 1];
  // Up to 6 integer digits: < 10¹⁵ + 10⁹, exact as a double.
  if (int.length <= 6) return Number(int) * 1e9 + frac;
  return BigInt(int) * 1_000_000_000n + BigInt(frac);
}

/** 10^(9 - d): scales a fraction of d digits to 10⁻⁹ units. */
const NANO_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

function addTo(sum: BucketSum, quantity: string): void {
  const n = sum.dec === null ? nanoOf(quantity) : null;
  if (n === null) {
    sum.dec = (sum.dec ?? new Decimal(fromNano(BigInt(sum.small) + sum.big))).plus(quantity);
    return;
  }
  if (typeof n === 'bigint') {
    sum.big += n;
    return;
  }
  const next = sum.small + n;
  if (next > Number.MAX_SAFE_INTEGER) {
    sum.big += BigInt(sum.small) + BigInt(n);
    sum.small = 0;
  } else sum.small = next;
}

/** The sum as a decimal string with 9 places. */
function sumText(s: BucketSum): string {
  if (s.dec !== null) return s.dec.toFixed();
  if (s.big !== 0n) return fromNano(BigInt(s.small) + s.big);
  // An integer below 2⁵³: % and the division of a multiple of 10⁹ are exact.
  const frac = s.small % 1e9;
  return `${(s.small - frac) / 1e9}.${String(frac).padStart(9, '0')}`;
}

/** A lease's minute with the sum of each unit reported in it (`usage_minutes`' row shape). */
export interface MinuteRow {
  leaseId: string;
  /** Minutes since the epoch: the minute in which the events' windows start. */
  minute: number;
  units: Readonly<Record<string, string>>;
}

/**
 * Sums the events' units per lease and minute of the window start: one row per lease-minute
 * with every unit, sorted by (lease, minute), the primary key's order, so concurrent
 * transactions lock rows in one order. A lease-minute with one event (the usual case: an agent
 * reports each lease once a minute) takes that event's units as they are (the server's 9-dp
 * figures); several are summed exactly, on integers of 10⁻⁹ (Decimal beyond 9 places).
 */
export function minuteRows(
  events: Pick<GoodEvent, 'leaseId' | 'windowStart' | 'units'>[],
): MinuteRow[] {
  type Cell = { units: Record<string, string>; sums: Map<string, BucketSum> | null };
  const byLease = new Map<string, Map<number, Cell>>();
  for (const e of events) {
    const minute = Math.floor(e.windowStart.getTime() / MINUTE);
    let byMinute = byLease.get(e.leaseId);
    if (byMinute === undefined) byLease.set(e.leaseId, (byMinute = new Map()));
    const cell = byMinute.get(minute);
    if (cell === undefined) {
      byMinute.set(minute, { units: e.units, sums: null });
      continue;
    }
    if (cell.sums === null) {
      cell.sums = new Map();
      for (const unit of Object.keys(cell.units)) addUnit(cell.sums, unit, cell.units[unit]);
    }
    for (const unit of Object.keys(e.units)) addUnit(cell.sums, unit, e.units[unit]);
  }
  const out: MinuteRow[] = [];
  for (const leaseId of [...byLease.keys()].sort()) {
    const byMinute = byLease.get(leaseId) as Map<number, Cell>;
    for (const minute of [...byMinute.keys()].sort((a, b) => a - b)) {
      const cell = byMinute.get(minute) as Cell;
      let units = cell.units;
      if (cell.sums !== null) {
        units = {};
        for (const [unit, sum] of cell.sums) units[unit] = sumText(sum);
      }
      out.push({ leaseId, minute, units });
    }
  }
  return out;
}

function addUnit(sums: Map<string, BucketSum>, unit: string, quantity: string | undefined): void {
  if (quantity === undefined) return;
  let sum = sums.get(unit);
  if (sum === undefined) sums.set(unit, (sum = { small: 0, big: 0n, dec: null }));
  addTo(sum, quantity);
}

const NANO_RE = /^\d+(?:\.\d{1,9})?$/;

/** 10⁻⁹-scaled integer → decimal string with 9 places. */
function fromNano(n: bigint): string {
  const s = n.toString().padStart(10, '0');
  return `${s.slice(0, -9)}.${s.slice(-9)}`;
}

/** Characters an unquoted array element may contain (and not be the word NULL). */
const PLAIN_TOKEN = /^[0-9A-Za-z_.:+-]+$/;

/** The units' columns in `usage_minutes`, in catalog order. */
const UNIT_COLS = UNIT_CODES.map((u) => UNIT_COLUMNS[u]);

/** The capacity rule's quantity columns of `usage_minutes`, one per field. */
const CAPACITY_COLS: readonly CapacityField[] = CAPACITY_FIELDS;

/** Every column of a `usage_minutes` row the ingest writes, after lease_id and the minute. */
const ROW_COLS = ['covered', ...CAPACITY_COLS, ...UNIT_COLS];

/**
 * One statement for the minute rows and the hours. A row per lease and minute the admitted events
 * cover: the capacity state (covered ms and the sums of the quantities' shares) and, where windows
 * start, the units (NULL elsewhere). Not `locked`, the rows are a plain INSERT (a third cheaper
 * for PostgreSQL than `ON CONFLICT DO UPDATE`): every minute was new, a minute that has a row
 * fails the statement. `locked`, they are upserts of the rows {@link LOCK_MINUTES_SQL} locked:
 * the state replaced (the ledger computed it from the stored one), the units added. The same
 * rows' units, summed per lease and hour by PostgreSQL (floored division, also before 1970) and
 * unpivoted, are added to `usage_hours` (sorted, so concurrent transactions lock hour rows in one
 * order). Parameters are array literals built in one pass (absent values NULL; minutes as
 * integers).
 */
function usageSql(locked: boolean): string {
  return `WITH d AS (
    SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], ${[...CAPACITY_COLS, ...UNIT_COLS].map((_, i) => `$${i + 4}::numeric[]`).join(', ')})
      AS d(lease_id, minute, ${ROW_COLS.join(', ')})
  ), m AS (
    INSERT INTO usage_minutes (lease_id, bucket, ${ROW_COLS.join(', ')})
    SELECT lease_id, to_timestamp(minute * 60), covered::int[], ${[...CAPACITY_COLS, ...UNIT_COLS].join(', ')} FROM d
    ${
      locked
        ? `ON CONFLICT (lease_id, bucket) DO UPDATE SET covered = EXCLUDED.covered,
        ${CAPACITY_COLS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
        ${UNIT_COLS.map(
          (c) =>
            `${c} = COALESCE(usage_minutes.${c} + EXCLUDED.${c}, usage_minutes.${c}, EXCLUDED.${c})`,
        ).join(', ')}`
        : ''
    }
  )
  INSERT INTO usage_hours (lease_id, unit, bucket, quantity)
  SELECT g.lease_id, x.unit, to_timestamp(g.hour * 3600), x.q
    FROM (SELECT lease_id, (minute - ((minute % 60 + 60) % 60)) / 60 AS hour,
                 ${UNIT_COLS.map((c) => `sum(${c}) AS ${c}`).join(', ')}
            FROM d GROUP BY 1, 2) AS g
   CROSS JOIN LATERAL (VALUES ${UNIT_CODES.map((u) => `('${u}', g.${UNIT_COLUMNS[u]})`).join(', ')}) AS x(unit, q)
   WHERE x.q IS NOT NULL
   ORDER BY 1, 2, 3
  ON CONFLICT (lease_id, unit, bucket) DO UPDATE SET quantity = usage_hours.quantity + EXCLUDED.quantity`;
}
const USAGE_INSERT_SQL = usageSql(false);
const USAGE_LOCKED_SQL = usageSql(true);

/**
 * Locks the minute rows of the given lease-minutes (sorted: one lock order for every
 * transaction) and answers their capacity state; a minute without a row gets an empty one (no
 * units, no state), so that a concurrent transaction waits for this one instead of inserting
 * beside it.
 */
const LOCK_MINUTES_SQL = `INSERT INTO usage_minutes (lease_id, bucket)
  SELECT lease_id, to_timestamp(minute * 60) FROM unnest($1::uuid[], $2::bigint[]) AS k(lease_id, minute)
  ON CONFLICT (lease_id, bucket) DO UPDATE SET covered = usage_minutes.covered
  RETURNING lease_id, (extract(epoch FROM bucket) / 60)::bigint::text AS minute, covered,
            ${CAPACITY_COLS.map((f) => `${f}::text AS ${f}`).join(', ')}`;

/**
 * Transactions left that lock the minute rows first: set after a conflict, since those come
 * in runs (an agent with windows shorter than a minute, or late events for filled minutes).
 */
let lockedFor = 0;

/** True for a unique violation of `usage_minutes`' key: a lease-minute that has a row already. */
function isMinuteConflict(err: unknown): boolean {
  const e = err as { code?: unknown; table?: unknown } | null;
  return e?.code === '23505' && e.table === 'usage_minutes';
}

/** Covered ms as an array-literal element: `"{0,60000}"` (the common whole minute, once). */
function coveredElement(covered: readonly number[]): string {
  if (covered.length === 2 && covered[0] === 0 && covered[1] === 60_000) return WHOLE_MINUTE;
  return `"{${covered.join(',')}}"`;
}
const WHOLE_MINUTE = '"{0,60000}"';

/**
 * The parameters of {@link usageSql}: the minutes whose capacity state changed (sorted by lease
 * and minute), each with the units of the admitted events whose windows start in it.
 */
function usageParams(
  changed: { leaseId: string; minute: number; load: MinuteLoad }[],
  minutes: MinuteRow[],
): string[] {
  const units = new Map<string, Readonly<Record<string, string>>>();
  for (const row of minutes) {
    for (const unit of Object.keys(row.units)) {
      // Units come from the server's own computation (validateEvent): a bug guard.
      if (!(unit in UNIT_COLUMNS)) throw new Error(`no usage_minutes column for unit ${unit}`);
    }
    units.set(`${row.leaseId}|${row.minute}`, row.units);
  }
  const n = changed.length;
  const leases = new Array<string>(n);
  const mins = new Array<number>(n);
  const covered = new Array<string>(n);
  const cols = [...CAPACITY_COLS, ...UNIT_CODES].map(() => new Array<string>(n));
  const k = CAPACITY_COLS.length;
  for (let r = 0; r < n; r++) {
    const row = changed[r] as { leaseId: string; minute: number; load: MinuteLoad };
    leases[r] = row.leaseId;
    mins[r] = row.minute;
    covered[r] = coveredElement(row.load.covered);
    const sums = row.load.sums;
    for (let c = 0; c < k; c++) {
      const v = sums[CAPACITY_COLS[c] as CapacityField];
      (cols[c] as string[])[r] = v === undefined ? 'NULL' : scaledText(v);
    }
    const u = units.get(`${row.leaseId}|${row.minute}`);
    for (let c = 0; c < UNIT_CODES.length; c++) {
      (cols[k + c] as string[])[r] = u?.[UNIT_CODES[c] as string] ?? 'NULL';
    }
  }
  // join, not +=: a flat string at once (pg measures and copies each parameter; a rope of
  // thousands of pieces cost more to flatten than to build).
  return [
    `{${leases.join(',')}}`,
    `{${mins.join(',')}}`,
    `{${covered.join(',')}}`,
    ...cols.map((c) => `{${c.join(',')}}`),
  ];
}

/** A stored minute row (as {@link LOCK_MINUTES_SQL} answers it) as the ledger's seed. */
function loadOf(row: Record<string, unknown>): {
  leaseId: string;
  minute: number;
  load: MinuteLoad;
} {
  const sums: MinuteLoad['sums'] = {};
  for (const f of CAPACITY_COLS) {
    const text = row[f];
    if (typeof text !== 'string') continue;
    const v = parseScaled(text);
    if (v === undefined) throw new Error(`usage_minutes.${f} is not a plain decimal: ${text}`);
    sums[f] = v;
  }
  return {
    leaseId: row.lease_id as string,
    minute: Number(row.minute),
    load: { covered: ((row.covered as number[] | null) ?? []).map(Number), sums },
  };
}

/**
 * Admits the fresh events by the capacity rule in their order (docs/decisions.md, "Usage never
 * exceeds what the lease can deliver") and writes the capacity state and the aggregates of the
 * admitted ones. Usually every minute they cover is new (an agent reports each lease once a
 * minute): the rule runs on the batch alone and everything is inserted under a savepoint. A
 * minute that has a row already fails that statement: it is rolled back, the covered minutes'
 * rows are locked and read, and the rule runs again on the stored state (so several ingest
 * processes, partitions and the HTTP path, applying usage of one lease at once, serialize on
 * those rows); the next 100 transactions of the process lock first.
 */
async function writeUsage(
  client: PoolClient,
  fresh: GoodEvent[],
  capacityOf: (leaseId: string) => Capacity,
): Promise<{ admitted: GoodEvent[]; refused: { event: GoodEvent; detail: string }[] }> {
  if (lockedFor === 0) {
    const verdict = admitAll(new CapacityLedger(), fresh, capacityOf);
    await client.query('SAVEPOINT usage');
    try {
      await client.query(
        USAGE_INSERT_SQL,
        usageParams(verdict.ledger.changed(), minuteRows(verdict.admitted)),
      );
      return verdict;
    } catch (err) {
      if (!isMinuteConflict(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT usage');
      lockedFor = 100;
    }
  } else lockedFor--;
  const keys = new Map<string, [string, number]>();
  for (const e of fresh) {
    for (const m of minutesOf(e.startMs, e.endMs)) keys.set(`${e.leaseId}|${m}`, [e.leaseId, m]);
  }
  const sorted = [...keys.values()].sort(([l1, m1], [l2, m2]) =>
    l1 < l2 ? -1 : l1 > l2 ? 1 : m1 - m2,
  );
  const { rows } = await client.query<Record<string, unknown>>(LOCK_MINUTES_SQL, [
    `{${sorted.map(([l]) => l).join(',')}}`,
    `{${sorted.map(([, m]) => m).join(',')}}`,
  ]);
  const verdict = admitAll(new CapacityLedger(rows.map(loadOf)), fresh, capacityOf);
  await client.query(
    USAGE_LOCKED_SQL,
    usageParams(verdict.ledger.changed(), minuteRows(verdict.admitted)),
  );
  return verdict;
}

function admitAll(
  ledger: CapacityLedger,
  events: GoodEvent[],
  capacityOf: (leaseId: string) => Capacity,
): {
  ledger: CapacityLedger;
  admitted: GoodEvent[];
  refused: { event: GoodEvent; detail: string }[];
} {
  const admitted: GoodEvent[] = [];
  const refused: { event: GoodEvent; detail: string }[] = [];
  for (const e of events) {
    const a = ledger.admit(e, capacityOf(e.leaseId));
    if (a.ok) admitted.push(e);
    else refused.push({ event: e, detail: a.detail });
  }
  return { ledger, admitted, refused };
}

/**
 * A PostgreSQL array-literal element: as it is when it needs no quoting (uuids, ULIDs, unit
 * codes, decimals, ISO times), else quoted and escaped. Array literals joined by hand cost a
 * fraction of pg's per-element escaping.
 */
export function element(v: string): string {
  return PLAIN_TOKEN.test(v) && !(v.length === 4 && v.toLowerCase() === 'null')
    ? v
    : `"${v.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * The `usage_events` columns of `events` as six array literals (source, event_id, lease_id,
 * window_start, batch_seq, signed), in one pass; a batch's events share their source, quoted once.
 */
function eventArrays(events: GoodEvent[]): string[] {
  const sources = new Map<string, string>();
  const n = events.length;
  const s = new Array<string>(n);
  const i = new Array<string>(n);
  const l = new Array<string>(n);
  const a = new Array<string>(n);
  const q = new Array<string>(n);
  const g = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    const e = events[k] as GoodEvent;
    let source = sources.get(e.source);
    if (source === undefined) sources.set(e.source, (source = element(e.source)));
    s[k] = source;
    i[k] = element(e.id);
    l[k] = e.leaseId;
    // Validated RFC 3339 text: digits, '-', ':', 'T', '.', 'Z' and '+' only, never quoted.
    a[k] = e.windowStartText;
    q[k] = e.seq === null ? 'NULL' : String(e.seq);
    g[k] = e.signed ? 't' : 'f';
  }
  return [s, i, l, a, q, g].map((column) => `{${column.join(',')}}`);
}

/**
 * Event `index` of a message value, parsed again (the parsed batches are let go before the
 * writes; only a refused event needs its text back, for its dead letter).
 */
function rawEventOf(value: Buffer | string, unsigned: boolean, index: number): unknown {
  try {
    const text = value.toString();
    const json = unsigned ? text : Buffer.from(text.split('.')[1] ?? '', 'base64url').toString();
    return (JSON.parse(json) as { events: unknown[] }).events[index] ?? null;
  } catch {
    return null;
  }
}

/** True for a unique violation of `usage_events`' key: an event applied before. */
function isEventKeyConflict(err: unknown): boolean {
  const e = err as { code?: unknown; table?: unknown } | null;
  return e?.code === '23505' && e.table === 'usage_events';
}

/**
 * Applies `messages` (one Kafka batch, in offset order) in one transaction.
 *
 * Events of signed batches are first inserted without `ON CONFLICT` (half the cost in
 * PostgreSQL): a redelivered or replayed batch never gets there (the chain check skips it), so an
 * event applied before only reaches the insert when an agent reuses an event id in a new batch
 * or two transactions race for one. Then the unique violation rolls the whole transaction back
 * and it runs again, deduplicating each event against the table: counted once either way.
 */
export async function applyMessages(
  pool: Pool,
  messages: InboundMessage[],
  opts: ApplyOptions,
): Promise<ApplyResult> {
  try {
    return await applyOnce(pool, messages, opts, true);
  } catch (err) {
    if (!isEventKeyConflict(err)) throw err;
    return applyOnce(pool, messages, opts, false);
  }
}

async function applyOnce(
  pool: Pool,
  messages: InboundMessage[],
  opts: ApplyOptions,
  optimistic: boolean,
): Promise<ApplyResult> {
  const result: ApplyResult = {
    messages: messages.length,
    batches: 0,
    redeliveries: 0,
    applied: 0,
    duplicateEvents: 0,
    deadLetters: 0,
    held: false,
    perLease: [],
  };
  const pre = messages.map((m) => ({
    ...m,
    hash: m.value === null ? null : batchHash(m.value),
    agentId:
      m.unsigned === true
        ? null
        : (m.key ?? (m.value === null ? null : unverifiedAgent(m.value.toString()))),
  }));
  const agentIds = [...new Set(pre.map((m) => m.agentId).filter((a): a is string => a !== null))];

  const client = await pool.connect();
  try {
    // Durable at COMMIT whatever the server's default: the Kafka offsets move right after it, so
    // a commit that a PostgreSQL crash could still lose would lose usage for good.
    await client.query('BEGIN; SET LOCAL synchronous_commit = on');
    const agents = await loadAgents(client, agentIds.sort());
    const heads = new Map<string, ChainHead>();
    const seenInTx = new Map<string, string>();
    const newBatches: { agentId: string; seq: number; hash: string }[] = [];
    const dead: DeadLetterRow[] = [];
    const live = new Set<string>();
    const accepted: {
      agent: AgentRow | null;
      /** For unsigned envelopes: the organization of the API key. */
      org: string | null;
      seq: number | null;
      hash: string;
      events: unknown[];
      timestamp: number | undefined;
      /** The message value, to read a refused event back for its dead letter. */
      value: Buffer | string;
    }[] = [];

    for (const m of pre) {
      const batchKey = m.hash ?? `p${m.partition}o${m.offset}`;
      const deadBatch = (
        reason: DlqReason,
        detail: string,
        extra: Partial<Pick<DeadLetterRow, 'agentId' | 'seq' | 'eventId'>> = {},
      ) =>
        dead.push({
          dedupeKey: `${batchKey}:batch`,
          reason,
          detail,
          agentId: extra.agentId ?? m.agentId,
          seq: extra.seq ?? null,
          eventId: extra.eventId ?? null,
          leaseId: null,
          event: null,
          raw: m.value === null ? null : m.value.toString(),
        });
      if (m.value === null || m.hash === null) {
        deadBatch('schema', 'empty message');
        continue;
      }
      if (m.unsigned === true) {
        let json: unknown;
        try {
          json = JSON.parse(m.value.toString());
        } catch {
          deadBatch('schema', 'unsigned envelope is not JSON');
          continue;
        }
        const u = unsignedEnvelopeSchema.safeParse(json);
        if (!u.success) {
          const issue = u.error.issues[0];
          deadBatch('schema', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
          continue;
        }
        result.batches++;
        accepted.push({
          agent: null,
          org: u.data.org,
          seq: null,
          hash: m.hash,
          events: u.data.events,
          timestamp: m.timestamp,
          value: m.value,
        });
        continue;
      }
      const agent = m.agentId === null ? undefined : agents.get(m.agentId);
      if (agent === undefined || agent.revoked) {
        deadBatch('bad_signature', agent === undefined ? 'unknown agent' : 'agent revoked');
        continue;
      }
      let payload: unknown;
      try {
        // The registered key under the agents row's kid (and under its own, if it carries one).
        const keys: Jwk[] = [{ ...agent.publicJwk, kid: agent.kid }];
        if (typeof agent.publicJwk.kid === 'string' && agent.publicJwk.kid !== agent.kid) {
          keys.push(agent.publicJwk);
        }
        payload = await verifyBatch(m.value, keys);
      } catch (err) {
        deadBatch('bad_signature', `signature does not verify: ${(err as Error).message}`);
        continue;
      }
      const env = envelopeSchema.safeParse(payload);
      if (!env.success) {
        const issue = env.error.issues[0];
        deadBatch('schema', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
        continue;
      }
      const batch = env.data;
      if (batch.agent !== agent.id) {
        deadBatch(
          'bad_signature',
          `batch of agent ${batch.agent} signed with the key of ${agent.id}`,
        );
        continue;
      }
      const head = heads.get(agent.id) ?? { lastSeq: agent.lastSeq, lastHash: agent.lastHash };
      let known = seenInTx.get(`${agent.id}:${batch.seq}`);
      if (known === undefined && head.lastSeq !== null && batch.seq < head.lastSeq) {
        const { rows } = await client.query<{ hash: string }>(
          'SELECT hash FROM agent_batches WHERE agent_id = $1 AND seq = $2',
          [agent.id, batch.seq],
        );
        known = rows[0]?.hash;
      }
      const verdict = checkChain(head, { seq: batch.seq, prev: batch.prev, hash: m.hash }, known);
      if (verdict.kind === 'duplicate') {
        result.redeliveries++;
        continue;
      }
      // A fresh signed batch is a sign of life (a replayed old one is not).
      live.add(agent.resourceId);
      if (verdict.kind === 'gap' && !verdict.resync) {
        deadBatch('chain_gap', verdict.detail, { seq: batch.seq, eventId: batch.batchId });
        continue;
      }
      heads.set(agent.id, { lastSeq: batch.seq, lastHash: m.hash });
      seenInTx.set(`${agent.id}:${batch.seq}`, m.hash);
      newBatches.push({ agentId: agent.id, seq: batch.seq, hash: m.hash });
      if (verdict.kind === 'gap') {
        deadBatch('chain_gap', `${verdict.detail}; chain resynced at seq ${batch.seq}`, {
          seq: batch.seq,
          eventId: batch.batchId,
        });
        continue;
      }
      result.batches++;
      accepted.push({
        agent,
        org: null,
        seq: batch.seq,
        hash: m.hash,
        events: batch.events,
        timestamp: m.timestamp,
        value: m.value,
      });
    }

    // Per-event validation against the leases (one query for the whole Kafka batch).
    const subjectOf = (e: unknown): string | null => {
      const s = (e as { subject?: unknown } | null)?.subject;
      return typeof s === 'string' && UUID_RE.test(s) ? s.toLowerCase() : null;
    };
    // Each event's lease id (checked and lower-cased once), by batch.
    const subjectsOf = accepted.map((b) => b.events.map(subjectOf));
    const subjects = new Set<string>();
    for (const list of subjectsOf) for (const s of list) if (s !== null) subjects.add(s);
    const leases = await loadLeases(client, [...subjects]);
    const wait = opts.leaseWaitMs ?? 0;
    if (wait > 0) {
      const nowMs = Date.now();
      const young = accepted.some(
        (b, i) =>
          b.timestamp !== undefined &&
          nowMs - b.timestamp < wait &&
          (subjectsOf[i] as (string | null)[]).some((s) => s !== null && !leases.has(s)),
      );
      if (young) {
        await client.query('ROLLBACK');
        return { ...result, held: true };
      }
    }
    const good: GoodEvent[] = [];
    const seenEvents = new Set<string>();
    for (const [i, b] of accepted.entries()) {
      const subjectList = subjectsOf[i] as (string | null)[];
      b.events.forEach((raw, index) => {
        const subject = subjectList[index] as string | null;
        const lease = subject === null ? undefined : leases.get(subject);
        const deadEvent = (reason: DlqReason, detail: string) => {
          const id = (raw as { id?: unknown } | null)?.id;
          dead.push({
            dedupeKey: `${b.hash}:${index}`,
            reason,
            detail,
            agentId: b.agent?.id ?? null,
            seq: b.seq,
            eventId: typeof id === 'string' ? id.slice(0, 128) : null,
            leaseId: lease !== undefined ? lease.id : null,
            event: raw,
            raw: null,
          });
        };
        if (b.agent === null) {
          // Unsigned: only for the API key's organization's leases whose offer accepts it.
          if (lease === undefined || lease.sellerOrgId !== b.org) {
            deadEvent(
              'unknown_lease',
              `lease ${subject ?? '?'} is not a lease of the API key's organization`,
            );
            return;
          }
          if (!lease.acceptsUnsigned) {
            deadEvent(
              'bad_signature',
              `unsigned usage refused: the offer of lease ${lease.id} accepts signed usage only`,
            );
            return;
          }
        }
        const v = validateEvent(raw, {
          agentId: b.agent?.id ?? null,
          resourceId: b.agent?.resourceId ?? lease?.resourceId ?? '',
          lease,
          now: opts.now,
          lateGraceHours: opts.lateGraceHours,
        });
        if (!v.ok) {
          deadEvent(v.reason, v.detail);
          return;
        }
        const key = `${v.event.source}\u0000${v.event.id}`;
        if (seenEvents.has(key)) {
          result.duplicateEvents++;
          return;
        }
        seenEvents.add(key);
        good.push({
          source: v.event.source,
          id: v.event.id,
          leaseId: subject as string, // = v.event.subject, lower-cased
          windowStart: v.windowStart,
          windowStartText: v.event.data.window.start,
          units: v.units,
          seq: b.seq,
          signed: b.agent !== null,
          startMs: v.windowStart.getTime(),
          endMs: v.windowEnd.getTime(),
          usage: v.event.data.usage,
          ratedCatalog: v.ratedCatalog,
          batch: i,
          index,
        });
      });
    }

    // The parsed batches are done with (the good events keep only what they need, dead letters
    // their own event): let them go before the writes, so that garbage collection during the
    // wait on PostgreSQL does not copy them around.
    for (const b of accepted) b.events = [];

    if (good.length > 0) {
      // The events as array literals built in one pass (pg's per-element escaping cost more
      // than the statement; a JSON parameter costs PostgreSQL a third more to take apart).
      const params = eventArrays(good);
      const columns = `unnest($1::text[], $2::text[], $3::uuid[], $4::timestamptz[], $5::bigint[],
             $6::boolean[])`;
      let fresh: GoodEvent[];
      if (optimistic && good.every((e) => e.signed)) {
        // See applyMessages: a key seen before fails the statement and the transaction reruns.
        await client.query(
          `INSERT INTO usage_events (source, event_id, lease_id, window_start, batch_seq, signed)
           SELECT * FROM ${columns}`,
          params,
        );
        fresh = good;
      } else {
        // It answers one row: how many were new and, only when some were not, the positions
        // of the new ones.
        // Unsigned events take this path: it also records the catalog version the exchange
        // rated an event with when it came without units (signed ones: NULL).
        const { rows } = await client.query<{ n: number; fresh: number[] | null }>(
          `WITH v AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::timestamptz[],
                                  $5::bigint[], $6::boolean[], $7::text[])
                      WITH ORDINALITY AS x(s, i, l, a, q, g, c, o)
           ), ins AS (
             INSERT INTO usage_events
                    (source, event_id, lease_id, window_start, batch_seq, signed, rated_catalog)
             SELECT s, i, l, a, q, g, c FROM v
             ON CONFLICT (source, event_id) DO NOTHING
             RETURNING source, event_id
           )
           SELECT count(*)::int AS n,
                  CASE WHEN count(*) < $8 THEN
                    (SELECT array_agg(v.o::int ORDER BY v.o)
                       FROM v JOIN ins ON ins.source = v.s AND ins.event_id = v.i)
                  END AS fresh
             FROM ins`,
          [
            ...params,
            `{${good.map((e) => (e.ratedCatalog === null ? 'NULL' : element(e.ratedCatalog))).join(',')}}`,
            good.length,
          ],
        );
        const n = rows[0]?.n ?? 0;
        fresh =
          n === good.length ? good : (rows[0]?.fresh ?? []).map((o) => good[o - 1] as GoodEvent);
      }
      result.duplicateEvents += good.length - fresh.length;
      const capacities = new Map<string, Capacity>();
      const capacityOf = (leaseId: string): Capacity => {
        let c = capacities.get(leaseId);
        if (c === undefined) {
          const lease = leases.get(leaseId) as MeteringLease; // validated against it
          capacities.set(leaseId, (c = leaseCapacity(lease.spec, lease.slots)));
        }
        return c;
      };
      const { admitted, refused } =
        fresh.length === 0
          ? { admitted: fresh, refused: [] }
          : await writeUsage(client, fresh, capacityOf);
      if (refused.length > 0) {
        // Out of the dedupe ledger again: a refused event counts for nothing, like any other
        // dead letter.
        await client.query(
          `DELETE FROM usage_events
            WHERE (source, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
          [refused.map((r) => r.event.source), refused.map((r) => r.event.id)],
        );
        for (const { event: e, detail } of refused) {
          const b = accepted[e.batch] as (typeof accepted)[number];
          dead.push({
            dedupeKey: `${b.hash}:${e.index}`,
            reason: 'over_capacity',
            detail,
            agentId: b.agent?.id ?? null,
            seq: b.seq,
            eventId: e.id,
            leaseId: e.leaseId,
            event: rawEventOf(b.value, b.agent === null, e.index),
            raw: null,
          });
        }
      }
      result.applied = admitted.length;
      const perLease = new Map<string, number>();
      for (const e of admitted) perLease.set(e.leaseId, (perLease.get(e.leaseId) ?? 0) + 1);
      result.perLease = [...perLease].map(([leaseId, applied]) => ({
        leaseId,
        correlationId: leases.get(leaseId)?.correlationId ?? null,
        applied,
      }));
    }

    if (newBatches.length > 0) {
      await client.query(
        `INSERT INTO agent_batches (agent_id, seq, hash)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
         ON CONFLICT (agent_id, seq) DO NOTHING`,
        [
          newBatches.map((b) => b.agentId),
          newBatches.map((b) => String(b.seq)),
          newBatches.map((b) => b.hash),
        ],
      );
      const finalHeads = [...heads.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      await client.query(
        `UPDATE agents a SET last_seq = v.seq, last_hash = v.hash
           FROM unnest($1::text[], $2::bigint[], $3::text[]) AS v(id, seq, hash)
          WHERE a.id = v.id`,
        [
          finalHeads.map(([id]) => id),
          finalHeads.map(([, h]) => String(h.lastSeq)),
          finalHeads.map(([, h]) => h.lastHash),
        ],
      );
    }

    if (dead.length > 0) {
      const { rowCount } = await client.query(
        `INSERT INTO usage_dead_letters (dedupe_key, reason, detail, agent_id, seq, event_id, lease_id, event, raw)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                              $6::text[], $7::uuid[], $8::jsonb[], $9::text[])
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [
          dead.map((d) => d.dedupeKey),
          dead.map((d) => d.reason),
          dead.map((d) => d.detail),
          dead.map((d) => d.agentId),
          dead.map((d) => (d.seq === null ? null : String(d.seq))),
          dead.map((d) => d.eventId),
          dead.map((d) => d.leaseId),
          dead.map((d) =>
            d.event === null || d.event === undefined ? null : JSON.stringify(d.event),
          ),
          dead.map((d) => d.raw),
        ],
      );
      result.deadLetters = rowCount ?? 0;
    }

    if (live.size > 0) {
      await client.query(
        `UPDATE resources SET last_heartbeat_at = GREATEST(COALESCE(last_heartbeat_at, $2), $2)
          WHERE id = ANY($1::uuid[])`,
        [[...live].sort(), opts.now],
      );
    }
    await opts.beforeCommit?.();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
