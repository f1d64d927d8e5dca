import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { emailBlindIndex } from '../privacy/blind-index.js';
import { AuditEventEntity } from './audit.entities.js';
import type { AuditEventPage, AuditEventView, AuditQuery } from './audit.contracts.js';

export interface AuditRecord {
  action: string;
  outcome?: 'succeeded' | 'failed';
  actorUserId?: string | null;
  actorOrgId?: string | null;
  actorKeyId?: string | null;
  orgId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  correlationId?: string | null;
  details?: Record<string, unknown>;
}

/** Fields never written to the audit log, at any depth. */
const SECRET = /password|secret|token|jwk|signature/i;

export function redactSecrets(v: unknown, depth = 0): unknown {
  if (depth > 6) return '…';
  if (Array.isArray(v)) return v.slice(0, 50).map((x) => redactSecrets(x, depth + 1));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [
        k,
        SECRET.test(k) ? '[redacted]' : redactSecrets(x, depth + 1),
      ]),
    );
  }
  if (typeof v === 'string' && v.length > 500) return `${v.slice(0, 500)}…`;
  return v;
}

/**
 * E-mails (fields named `email`, at any depth) become `emailIndex`, their blind index: the audit
 * log is kept after an erasure and read by operators without the access log, so it holds no
 * readable address, while the events of one address (failed log-ins) can still be matched.
 */
export function blindEmails(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => blindEmails(x, key));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) =>
        k === 'email' && typeof x === 'string'
          ? ['emailIndex', emailBlindIndex(key, x)]
          : [k, blindEmails(x, key)],
      ),
    );
  }
  return v;
}

const view = (e: AuditEventEntity): AuditEventView => ({
  id: e.id,
  at: e.at.toISOString(),
  action: e.action,
  outcome: e.outcome === 'failed' ? 'failed' : 'succeeded',
  actor: { userId: e.actorUserId, orgId: e.actorOrgId, apiKeyId: e.actorKeyId },
  orgId: e.orgId,
  target: e.targetType && e.targetId ? { type: e.targetType, id: e.targetId } : null,
  ip: e.ip,
  correlationId: e.correlationId,
  details: e.details,
});

const encodeCursor = (e: AuditEventEntity): string =>
  Buffer.from(`${e.at.toISOString()}|${e.id}`).toString('base64url');

function decodeCursor(c: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  const d = new Date(at ?? '');
  if (Number.isNaN(d.getTime()) || !/^[0-9a-f-]{36}$/.test(id ?? '')) {
    throw new DomainError('validation_failed', 'the cursor is not valid', 400);
  }
  return { at: d, id };
}

/** The audit log: append-only records of security-relevant actions, queried by operators. */
@Injectable()
export class AuditService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** Appends one record; inside `m`'s transaction when given (it commits with the action). */
  async record(r: AuditRecord, m?: EntityManager): Promise<void> {
    await (m ?? this.db.manager).getRepository(AuditEventEntity).insert({
      at: this.clock.now(),
      action: r.action,
      outcome: r.outcome ?? 'succeeded',
      actorUserId: r.actorUserId ?? null,
      actorOrgId: r.actorOrgId ?? null,
      actorKeyId: r.actorKeyId ?? null,
      orgId: r.orgId ?? r.actorOrgId ?? null,
      targetType: r.targetType ?? null,
      targetId: r.targetId ?? null,
      ip: r.ip ?? null,
      correlationId: r.correlationId ?? null,
      // jsonb: TypeORM's deep-partial type does not fit an open record
      details: blindEmails(redactSecrets(r.details ?? {}), this.config.emailIndexKey) as never,
    });
  }

  async query(q: AuditQuery): Promise<AuditEventPage> {
    const qb = this.db
      .getRepository(AuditEventEntity)
      .createQueryBuilder('e')
      .orderBy('e.at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(q.limit + 1);
    if (q.action?.endsWith('.')) qb.andWhere('e.action LIKE :a', { a: `${q.action}%` });
    else if (q.action) qb.andWhere('e.action = :a', { a: q.action });
    if (q.orgId) qb.andWhere('(e.org_id = :o OR e.actor_org_id = :o)', { o: q.orgId });
    if (q.actorUserId) qb.andWhere('e.actor_user_id = :u', { u: q.actorUserId });
    if (q.outcome) qb.andWhere('e.outcome = :oc', { oc: q.outcome });
    if (q.from) qb.andWhere('e.at >= :from', { from: new Date(q.from) });
    if (q.to) qb.andWhere('e.at < :to', { to: new Date(q.to) });
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      qb.andWhere('(e.at, e.id) < (:cat, :cid)', { cat: c.at, cid: c.id });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, q.limit);
    return {
      items: page.map(view),
      nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]) : null,
    };
  }
}
