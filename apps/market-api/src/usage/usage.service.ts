import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  unsignedUsageEventSchema,
  type DeadLetterPage,
  type DeadLettersQuery,
  type UsageIngestAccepted,
  type UsagePoint,
} from '@suanli/contracts';
import { CATALOG_VERSIONS, CURRENT_CATALOG, isCatalogVersion } from '@suanli/units';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import { ResourceEntity } from '../database/registry.entities.js';
import type { ApiKeyPrincipal, Principal } from '../auth/auth.decorators.js';
import { UsageProducer } from './usage-producer.js';
import { usageRows } from './usage-rows.js';

/** Events per HTTP request (one Kafka message, like an agent's batch). */
export const MAX_EVENTS_PER_REQUEST = 1000;

interface DeadLetterRow {
  id: string;
  reason: string;
  detail: string;
  agent_id: string | null;
  seq: string | null;
  event_id: string | null;
  lease_id: string | null;
  event: unknown;
  raw_bytes: number | null;
  created_at: Date;
  published_at: Date | null;
}

@Injectable()
export class UsageService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly producer: UsageProducer,
    private readonly clock: Clock,
  ) {}

  /**
   * Validates plain CloudEvents (all or none) and produces them as one unsigned envelope; the
   * ingest applies them only to the API key organization's leases whose offer accepts unsigned
   * usage, and dead-letters the rest. An event without `units` is produced with the catalog
   * version that rates it filled in (`data.catalog`, else the current catalog): the ingest
   * computes its units with it and records the version with the event.
   */
  async ingest(key: ApiKeyPrincipal, events: unknown[]): Promise<UsageIngestAccepted> {
    if (events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST) {
      throw new DomainError(
        'validation_failed',
        `send 1 to ${MAX_EVENTS_PER_REQUEST} events per request`,
        400,
        { count: events.length },
      );
    }
    const issues: { path: string; message: string }[] = [];
    const ids: string[] = [];
    const rated: { id: string; catalog: string }[] = [];
    const out = events.map((e, i) => {
      const r = unsignedUsageEventSchema.safeParse(e);
      if (!r.success) {
        for (const issue of r.error.issues.slice(0, 5)) {
          issues.push({ path: [i, ...issue.path].join('.'), message: issue.message });
        }
        return e;
      }
      ids.push(r.data.id);
      const catalog = r.data.data.catalog ?? CURRENT_CATALOG;
      if (!isCatalogVersion(catalog)) {
        issues.push({
          path: `${i}.data.catalog`,
          message: `unknown unit catalog version ${catalog} (known: ${CATALOG_VERSIONS.join(', ')})`,
        });
        return e;
      }
      if (r.data.data.units !== undefined) return e;
      rated.push({ id: r.data.id, catalog });
      // As posted (unknown attributes and extensions kept), with the rating catalog named.
      const posted = e as { data: Record<string, unknown> };
      return { ...posted, data: { ...posted.data, catalog } };
    });
    if (issues.length > 0) {
      throw new DomainError('validation_failed', 'the events are not valid CloudEvents', 400, {
        issues: issues.slice(0, 50),
      });
    }
    const eventId = randomUUID();
    await this.producer.send(
      {
        schemaVersion: 1,
        unsigned: true,
        org: key.orgId,
        apiKeyId: key.keyId,
        receivedAt: this.clock.now().toISOString(),
        events: out,
      },
      eventId,
    );
    return { accepted: events.length, ids, rated };
  }

  /** Dead letters: a seller sees those of its resources and leases, an operator all. */
  async deadLetters(p: Principal, q: DeadLettersQuery): Promise<DeadLetterPage> {
    const operator = p.roles.includes('operator');
    const params: unknown[] = [];
    const where: string[] = [];
    const param = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (!operator) {
      const org = param(p.orgId);
      where.push(`(d.lease_id IN (SELECT id FROM leases WHERE seller_org_id = ${org})
         OR d.agent_id IN (SELECT a.id FROM agents a JOIN resources r ON r.id = a.resource_id
                            WHERE r.owner_org_id = ${org}))`);
    }
    if (q.reason) where.push(`d.reason = ${param(q.reason)}`);
    if (q.lease) where.push(`d.lease_id = ${param(q.lease)}`);
    if (q.resource) {
      const r = param(q.resource);
      where.push(`(d.lease_id IN (SELECT id FROM leases WHERE resource_id = ${r})
         OR d.agent_id IN (SELECT id FROM agents WHERE resource_id = ${r}))`);
    }
    if (q.cursor) where.push(`d.id < ${param(q.cursor)}`);
    const limit = param(q.limit + 1);
    const rows = await this.db.query<DeadLetterRow[]>(
      `SELECT d.id::text AS id, d.reason, d.detail, d.agent_id, d.seq::text AS seq, d.event_id,
              d.lease_id, d.event, octet_length(d.raw) AS raw_bytes, d.created_at, d.published_at
         FROM usage_dead_letters d
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY d.id DESC LIMIT ${limit}`,
      params,
    );
    const page = rows.slice(0, q.limit);
    return {
      items: page.map((r) => ({
        id: r.id,
        reason: r.reason,
        detail: r.detail,
        agentId: r.agent_id,
        seq: r.seq,
        eventId: r.event_id,
        leaseId: r.lease_id,
        event: r.event ?? null,
        rawBytes: r.raw_bytes,
        createdAt: r.created_at.toISOString(),
        publishedAt: r.published_at?.toISOString() ?? null,
      })),
      nextCursor: rows.length > q.limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  }

  /** A resource's usage over all its leases (its owner, or an operator). */
  async resourceUsage(
    p: Principal,
    resourceId: string,
    q: { granularity: 'minute' | 'hour'; from?: string; to?: string },
  ): Promise<UsagePoint[]> {
    const resource = await this.db.getRepository(ResourceEntity).findOneBy({ id: resourceId });
    if (!resource || (resource.ownerOrgId !== p.orgId && !p.roles.includes('operator'))) {
      throw notFound('resource');
    }
    const rows = await this.db.query<{ unit: string; bucket: Date; quantity: string }[]>(
      `SELECT u.unit, u.bucket, sum(u.quantity)::text AS quantity
         FROM ${usageRows(q.granularity)} u JOIN leases l ON l.id = u.lease_id
        WHERE l.resource_id = $1
          AND ($2::timestamptz IS NULL OR u.bucket >= $2)
          AND ($3::timestamptz IS NULL OR u.bucket < $3)
        GROUP BY u.unit, u.bucket ORDER BY u.bucket, u.unit LIMIT 10000`,
      [resourceId, q.from ?? null, q.to ?? null],
    );
    return rows.map((r) => ({
      unit: r.unit,
      bucket: r.bucket.toISOString(),
      quantity: r.quantity,
    }));
  }
}
