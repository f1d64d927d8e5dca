import type { ResourceSearchQuery } from '@suanli/contracts';
import { DomainError } from '../common/errors.js';
import type { ResourceEntity } from '../database/registry.entities.js';
import { DEGRADED_WINDOW_MS, ONLINE_WINDOW_MS, onlineSql } from './lifecycle.js';

/** The opaque cursor: the last row's exact `created_at` (PostgreSQL text, µs) and id. */
export type SearchCursor = { t: string; i: string };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify([c.t, c.i]), 'utf8').toString('base64url');
}

export function decodeCursor(s: string): SearchCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      !Number.isNaN(Date.parse(v[0])) &&
      typeof v[1] === 'string' &&
      UUID_RE.test(v[1])
    ) {
      return { t: v[0], i: v[1] };
    }
  } catch {
    // fall through
  }
  throw new DomainError('validation_failed', 'the request is not valid', 400, {
    issues: [{ path: 'cursor', message: 'not a cursor this API issued' }],
  });
}

/**
 * The search as one SQL statement (the benchmark runs the very same text directly in
 * PostgreSQL). Stable order: `created_at, id`; keyset pagination; `limit + 1` rows fetched to
 * know whether there is a next page. Retired resources are left out unless `state=retired`.
 */
export function buildResourceSearch(
  q: ResourceSearchQuery,
  now: Date,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.class) where.push(`r.class = ${p(q.class)}`);
  if (q.form) where.push(`r.form = ${p(q.form)}`);
  if (q.location) {
    const m = /^([A-Z]{2})(?:-([A-Z0-9]{1,3})(?:\.([A-Z0-9]{1,8}))?)?$/.exec(q.location);
    if (m?.[1]) where.push(`r.country = ${p(m[1])}`);
    if (m?.[2]) where.push(`r.subdivision = ${p(m[2])}`);
    if (m?.[3]) where.push(`r.site = ${p(m[3])}`);
  }
  if (q.industry) where.push(`r.industry = ${p(q.industry)}`);
  if (q.registrant) {
    // A full registrant code matches exactly; a prefix (`86`, `86.R07`) matches below it. The
    // contract's grammar admits no LIKE wildcards.
    if (q.registrant.split('.').length === 3) where.push(`r.registrant = ${p(q.registrant)}`);
    else where.push(`r.registrant LIKE ${p(`${q.registrant}.%`)}`);
  }
  if (q.accelModel) where.push(`r.accel_model = ${p(q.accelModel)}`);
  if (q.accelMin !== undefined) where.push(`r.accel_count >= ${p(q.accelMin)}`);
  if (q.cpuMin !== undefined) where.push(`r.cpu >= ${p(q.cpuMin)}`);
  if (q.cpuMax !== undefined) where.push(`r.cpu <= ${p(q.cpuMax)}`);
  if (q.memMin !== undefined) where.push(`r.mem_gib >= ${p(q.memMin)}`);
  if (q.memMax !== undefined) where.push(`r.mem_gib <= ${p(q.memMax)}`);
  if (q.state) where.push(`r.state = ${p(q.state)}`);
  else where.push(`r.state <> 'retired'`);
  if (q.status) {
    // The same rule as liveStatus() in lifecycle.ts, in SQL.
    const online = new Date(now.getTime() - ONLINE_WINDOW_MS);
    const degraded = new Date(now.getTime() - DEGRADED_WINDOW_MS);
    // Written as plain ranges and IS NULL tests, which the planner estimates well.
    const notOffline = `(r.reported_status IS NULL OR r.reported_status <> 'offline')`;
    if (q.status === 'online') {
      where.push(onlineSql('r', p(online)));
    } else if (q.status === 'degraded') {
      const t3 = p(online);
      where.push(
        `((r.last_heartbeat_at >= ${p(degraded)} AND r.last_heartbeat_at < ${t3} AND ${notOffline})` +
          ` OR (r.last_heartbeat_at >= ${t3} AND r.reported_status = 'degraded'))`,
      );
    } else {
      where.push(
        `(r.last_heartbeat_at IS NULL OR r.last_heartbeat_at < ${p(degraded)}` +
          ` OR r.reported_status = 'offline')`,
      );
    }
  }
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    where.push(`(r.created_at, r.id) > (${p(c.t)}::timestamptz, ${p(c.i)}::uuid)`);
  }
  const sql =
    `SELECT r.*, r.created_at::text AS cursor_ts FROM resources r` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY r.created_at, r.id LIMIT ${p(q.limit + 1)}`;
  return { sql, params };
}

/** A raw `resources` row (snake_case, as `SELECT r.*` returns it) as the entity. */
export function resourceFromRow(row: Record<string, unknown>): ResourceEntity {
  return {
    id: row.id,
    handle: row.handle,
    cri: row.cri,
    name: row.name,
    ownerOrgId: row.owner_org_id,
    registrant: row.registrant,
    serial: row.serial,
    industry: row.industry,
    computeClass: row.class,
    form: row.form,
    country: row.country,
    subdivision: row.subdivision,
    site: row.site,
    spec: row.spec,
    cpu: row.cpu,
    memGiB: row.mem_gib,
    accelModel: row.accel_model,
    accelCount: row.accel_count,
    capacitySlots: row.capacity_slots,
    revision: row.revision,
    cpuModel: row.cpu_model,
    state: row.state,
    lastHeartbeatAt: row.last_heartbeat_at,
    reportedStatus: row.reported_status,
    retiredAt: row.retired_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  } as ResourceEntity;
}
