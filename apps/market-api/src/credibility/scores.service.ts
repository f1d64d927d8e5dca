import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import type { CredibilityView, LeaseEndReason } from '@suanli/contracts';
import { Clock } from '../common/clock.js';
import { notFound } from '../common/errors.js';
import { OrganizationEntity } from '../database/accounts.entities.js';
import {
  AssessorAccreditationEntity,
  CredibilityScoreEntity,
  CredibilityScoreHistoryEntity,
  DisputeEntity,
  EvaluationEntity,
  EvaluationMethodEntity,
} from './credibility.entities.js';
import { LeaseEntity } from '../database/market.entities.js';
import { ResourceEntity } from '../database/registry.entities.js';
import {
  type AgreementRecord,
  type AssessorRecord,
  BETA_V1,
  computeScore,
  type EvaluationRecord,
  type Evidence,
  type TelemetryHour,
} from './scoring.js';

export type SubjectType = 'resource' | 'seller';

/** Gathers evidence, computes scores with the published formula and keeps them with history. */
@Injectable()
export class ScoresService {
  private readonly log = new Logger('credibility');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Leased hours of `resourceIds` up to `asOf`, each online when it has an `online` beat. */
  async telemetry(resourceIds: string[], asOf: Date): Promise<TelemetryHour[]> {
    if (resourceIds.length === 0) return [];
    const rows = await this.db.query<
      { leaseId: string; resourceId: string; hour: Date; online: boolean }[]
    >(
      `SELECT l.id AS "leaseId", l.resource_id AS "resourceId", h.hour AS hour,
              EXISTS (SELECT 1 FROM resource_heartbeats b
                       WHERE b.resource_id = l.resource_id AND b.status = 'online'
                         AND b.at >= h.hour AND b.at < h.hour + interval '1 hour') AS online
         FROM leases l
        CROSS JOIN LATERAL generate_series(
               date_trunc('hour', l.starts_at),
               LEAST(COALESCE(l.ended_at, l.ends_at), $2::timestamptz) - interval '1 hour',
               interval '1 hour') AS h(hour)
        WHERE l.resource_id = ANY($1::uuid[]) AND l.state <> 'pending' AND l.starts_at < $2
        ORDER BY h.hour, l.id`,
      [resourceIds, asOf],
    );
    return rows.map((x) => ({
      leaseId: x.leaseId,
      resourceId: x.resourceId,
      hour: new Date(x.hour).toISOString(),
      online: x.online,
    }));
  }

  private async evaluationRecords(evals: EvaluationEntity[]): Promise<EvaluationRecord[]> {
    const methods = await this.db.getRepository(EvaluationMethodEntity).find();
    const obs = new Map(methods.map((m) => [m.id, m.observations]));
    return evals.map((e) => ({
      id: e.id,
      assessorOrgId: e.assessorOrgId,
      subjectId: e.subjectId,
      method: e.method,
      observations: obs.get(e.method) ?? 0,
      metrics: e.payload.metrics ?? {},
      issuedAt: e.issuedAt.toISOString(),
      expiresAt: e.expiresAt.toISOString(),
      revokedAt: e.revokedAt ? e.revokedAt.toISOString() : null,
      jws: e.jws,
    }));
  }

  /**
   * For each assessor: its accreditation and how each of its availability claims on a resource
   * compares with the availability telemetry observed on that resource after the claim.
   */
  async assessorRecords(orgIds: string[], asOf: Date): Promise<AssessorRecord[]> {
    if (orgIds.length === 0) return [];
    const levels = await this.db
      .getRepository(AssessorAccreditationEntity)
      .findBy({ orgId: In(orgIds) });
    const levelOf = new Map(levels.map((l) => [l.orgId, l.level]));
    const claims = await this.db
      .getRepository(EvaluationEntity)
      .createQueryBuilder('e')
      .where({ assessorOrgId: In(orgIds), subjectType: 'resource' })
      .andWhere('e.revoked_at IS NULL')
      .andWhere('e.issued_at <= :asOf', { asOf })
      .andWhere(`e.payload->'metrics' ? 'availability'`)
      .orderBy('e.issued_at')
      .getMany();
    const hours = await this.telemetry([...new Set(claims.map((c) => c.subjectId))], asOf);
    const agreements = new Map<string, AgreementRecord[]>();
    for (const c of claims) {
      const claimed = Number(c.payload.metrics.availability);
      if (!Number.isFinite(claimed)) continue;
      const after = hours.filter(
        (h) => h.resourceId === c.subjectId && Date.parse(h.hour) >= c.issuedAt.getTime(),
      );
      if (after.length === 0) continue;
      const list = agreements.get(c.assessorOrgId) ?? [];
      list.push({
        evaluationId: c.id,
        resourceId: c.subjectId,
        claimed,
        observed: after.filter((h) => h.online).length / after.length,
        observedHours: after.length,
      });
      agreements.set(c.assessorOrgId, list);
    }
    return orgIds.map((orgId) => ({
      orgId,
      accreditationLevel: levelOf.get(orgId) ?? 1,
      agreements: agreements.get(orgId) ?? [],
    }));
  }

  /** Everything the score of a subject is computed from, as of `asOf`. */
  async gatherEvidence(type: SubjectType, id: string, asOf: Date): Promise<Evidence> {
    let resourceIds: string[];
    let evals: EvaluationEntity[];
    let disputes: DisputeEntity[];
    const evRepo = this.db.getRepository(EvaluationEntity);
    if (type === 'resource') {
      const r = await this.db.getRepository(ResourceEntity).findOneBy({ id });
      if (!r) throw notFound('resource');
      resourceIds = [r.id];
      evals = await evRepo.findBy({ subjectType: 'resource', subjectId: r.id });
      disputes = await this.db.getRepository(DisputeEntity).findBy({ resourceId: r.id });
    } else {
      const o = await this.db.getRepository(OrganizationEntity).findOneBy({ id });
      if (!o) throw notFound('seller');
      const rs = await this.db.getRepository(ResourceEntity).findBy({ ownerOrgId: id });
      resourceIds = rs.map((r) => r.id);
      evals = await evRepo.findBy({ sellerOrgId: id });
      disputes = await this.db.getRepository(DisputeEntity).findBy({ sellerOrgId: id });
    }
    evals = evals.filter((e) => e.receivedAt.getTime() <= asOf.getTime());
    const leases =
      resourceIds.length === 0
        ? []
        : await this.db
            .getRepository(LeaseEntity)
            .createQueryBuilder('l')
            .where({ resourceId: In(resourceIds), state: 'ended' })
            .andWhere('l.ended_at <= :asOf', { asOf })
            .orderBy('l.ended_at')
            .getMany();
    const evaluations = await this.evaluationRecords(evals);
    return {
      subject: { type, id },
      asOf: asOf.toISOString(),
      formula: BETA_V1,
      telemetry: await this.telemetry(resourceIds, asOf),
      leases: leases.map((l) => ({
        id: l.id,
        resourceId: l.resourceId,
        endReason: l.endReason as LeaseEndReason | null,
        endedAt: l.endedAt ? l.endedAt.toISOString() : null,
      })),
      disputes: disputes
        .filter((x) => x.decidedAt.getTime() <= asOf.getTime())
        .map((x) => ({
          id: x.id,
          resourceId: x.resourceId,
          outcome: x.outcome,
          decidedAt: x.decidedAt.toISOString(),
        })),
      evaluations,
      assessors: await this.assessorRecords(
        [...new Set(evaluations.map((e) => e.assessorOrgId))].sort(),
        asOf,
      ),
    };
  }

  /** Recomputes and stores the score of a subject (current row + a history point). */
  async recompute(type: SubjectType, id: string): Promise<CredibilityScoreEntity> {
    const asOf = this.clock.now();
    const evidence = await this.gatherEvidence(type, id, asOf);
    const result = computeScore(evidence);
    const row: CredibilityScoreEntity = {
      subjectType: type,
      subjectId: id,
      score: result.score,
      confidence: result.confidence,
      r: result.r,
      s: result.s,
      formulaVersion: result.formulaVersion,
      computedAt: asOf,
      breakdown: result.breakdown,
      contributions: result.contributions,
      evidence: evidence as unknown as Record<string, unknown>,
    };
    await this.db.transaction(async (m) => {
      await m.getRepository(CredibilityScoreEntity).save(row);
      await m.getRepository(CredibilityScoreHistoryEntity).insert({
        subjectType: type,
        subjectId: id,
        score: result.score,
        confidence: result.confidence,
        formulaVersion: result.formulaVersion,
        computedAt: asOf,
      });
    });
    return row;
  }

  /** New evidence about a resource: its score and its seller's. */
  async recomputeResource(resourceId: string): Promise<void> {
    const r = await this.db.getRepository(ResourceEntity).findOneBy({ id: resourceId });
    if (!r) return;
    await this.recompute('resource', r.id);
    await this.recompute('seller', r.ownerOrgId);
  }

  /** Every resource that has been leased or evaluated, and every seller of one. */
  async recomputeAll(): Promise<{ resources: number; sellers: number; failed: number }> {
    const rows = await this.db.query<{ id: string; owner: string }[]>(
      `SELECT r.id, r.owner_org_id AS owner FROM resources r
        WHERE EXISTS (SELECT 1 FROM leases l WHERE l.resource_id = r.id)
           OR EXISTS (SELECT 1 FROM evaluations e WHERE e.subject_id = r.id)
           OR EXISTS (SELECT 1 FROM credibility_scores c WHERE c.subject_id = r.id)`,
    );
    const sellers = await this.db.query<{ id: string }[]>(
      `SELECT DISTINCT subject_id AS id FROM evaluations WHERE subject_type = 'seller'
        UNION SELECT DISTINCT seller_org_id FROM credibility_disputes`,
    );
    const sellerIds = new Set([...rows.map((x) => x.owner), ...sellers.map((x) => x.id)]);
    let failed = 0;
    const run = async (type: SubjectType, id: string) => {
      try {
        await this.recompute(type, id);
      } catch (e) {
        failed += 1;
        this.log.error(`recomputing ${type} ${id} failed: ${String(e)}`);
      }
    };
    for (const r of rows) await run('resource', r.id);
    for (const s of sellerIds) await run('seller', s);
    return { resources: rows.length, sellers: sellerIds.size, failed };
  }

  /**
   * Resources whose telemetry or lease evidence moved since their score was computed: a lease
   * ended after it, or a leased hour closed after it. Recomputes them (and their sellers).
   */
  async recomputeStale(): Promise<{ resources: number; failed: number }> {
    const now = this.clock.now();
    const rows = await this.db.query<{ id: string }[]>(
      `SELECT DISTINCT l.resource_id AS id
         FROM leases l
         LEFT JOIN credibility_scores cs
           ON cs.subject_type = 'resource' AND cs.subject_id = l.resource_id
        WHERE l.state <> 'pending' AND l.starts_at < $1
          AND (cs.computed_at IS NULL
               OR (l.ended_at IS NOT NULL AND l.ended_at > cs.computed_at AND l.ended_at <= $1)
               OR (date_trunc('hour', $1::timestamptz) > cs.computed_at
                   AND COALESCE(l.ended_at, l.ends_at) > date_trunc('hour', cs.computed_at)
                   AND l.starts_at < date_trunc('hour', $1::timestamptz)))`,
      [now],
    );
    let failed = 0;
    for (const r of rows) {
      try {
        await this.recomputeResource(r.id);
      } catch (e) {
        failed += 1;
        this.log.error(`recomputing resource ${r.id} failed: ${String(e)}`);
      }
    }
    return { resources: rows.length, failed };
  }

  /** The stored score; computed first when the subject has none yet. */
  async current(type: SubjectType, id: string): Promise<CredibilityScoreEntity> {
    const found = await this.db
      .getRepository(CredibilityScoreEntity)
      .findOneBy({ subjectType: type, subjectId: id });
    if (found) return found;
    return this.recompute(type, id);
  }

  async view(type: SubjectType, id: string): Promise<CredibilityView> {
    const cur = await this.current(type, id);
    const history = await this.db.getRepository(CredibilityScoreHistoryEntity).find({
      where: { subjectType: type, subjectId: id },
      order: { computedAt: 'DESC' },
      take: 100,
    });
    return {
      subject: { type, id },
      formulaVersion: cur.formulaVersion,
      score: cur.score,
      confidence: cur.confidence,
      r: cur.r,
      s: cur.s,
      computedAt: cur.computedAt.toISOString(),
      breakdown: cur.breakdown,
      contributions: cur.contributions,
      history: history.map((h) => ({
        score: h.score,
        confidence: h.confidence,
        computedAt: h.computedAt.toISOString(),
        formulaVersion: h.formulaVersion,
      })),
    };
  }

  async evidence(type: SubjectType, id: string): Promise<Record<string, unknown>> {
    const cur = await this.current(type, id);
    return {
      ...cur.evidence,
      result: { score: cur.score, confidence: cur.confidence, r: cur.r, s: cur.s },
    };
  }

  /** Score summaries of resources, for offer views. */
  async summaries(
    resourceIds: string[],
  ): Promise<Map<string, { score: number; confidence: number }>> {
    const out = new Map<string, { score: number; confidence: number }>();
    if (resourceIds.length === 0) return out;
    const rows = await this.db
      .getRepository(CredibilityScoreEntity)
      .findBy({ subjectType: 'resource', subjectId: In(resourceIds) });
    for (const r of rows) out.set(r.subjectId, { score: r.score, confidence: r.confidence });
    return out;
  }
}
