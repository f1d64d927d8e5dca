import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, In, QueryFailedError } from 'typeorm';
import {
  type AssessorKeyView,
  type AssessorView,
  type EvaluationMethodView,
  type EvaluationPayload,
  type EvaluationView,
  evaluationPayloadSchema,
  type PublicJwk,
} from '@suanli/contracts';
import { CryptoError, type JWK, jwkThumbprint, verifyJws } from '@suanli/crypto';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import { OrganizationEntity } from '../database/accounts.entities.js';
import {
  AssessorAccreditationEntity,
  AssessorKeyEntity,
  DisputeEntity,
  EvaluationEntity,
  EvaluationMethodEntity,
} from './credibility.entities.js';
import { LeaseEntity } from '../database/market.entities.js';
import { RegistryService } from '../registry/registry.service.js';
import { assessorWeight, BETA_V1 } from './scoring.js';
import { ScoresService } from './scores.service.js';

/** Methods registered at start-up (the table may hold more). */
export const DEFAULT_METHODS: EvaluationMethodView[] = [
  {
    id: 'suanli.bench.v1',
    description: 'Suanli benchmark suite (performance ratio)',
    observations: 5,
  },
  {
    id: 'uptime-probe.v1',
    description: 'External uptime probing (availability)',
    observations: 10,
  },
  { id: 'security-audit.v1', description: 'Security audit (pass or fail)', observations: 5 },
];

/** Clock skew tolerated on `iat`. */
export const IAT_SKEW_SECONDS = 60;
/**
 * The longest an evaluation may be valid (`exp` - `iat`): a year and a day. A measurement
 * says little about a machine years later; an assessor re-evaluates instead.
 */
export const MAX_VALIDITY_SECONDS = 366 * 86_400;
/** Trading partners within this many days may not evaluate each other. */
export const CONFLICT_WINDOW_DAYS = 90;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const refuse =
  (code: ConstructorParameters<typeof DomainError>[0], status: number) =>
  (message: string, details?: Record<string, unknown>) =>
    new DomainError(code, message, status, details);

function decodeSegment(seg: string): unknown {
  return JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
}

/** Assessor keys, evaluations (submit, revoke, list) and operator-recorded disputes. */
@Injectable()
export class CredibilityService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly registry: RegistryService,
    private readonly scores: ScoresService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.db
      .createQueryBuilder()
      .insert()
      .into(EvaluationMethodEntity)
      .values(DEFAULT_METHODS)
      .orIgnore()
      .execute();
  }

  async methods(): Promise<EvaluationMethodView[]> {
    const rows = await this.db.getRepository(EvaluationMethodEntity).find({ order: { id: 'ASC' } });
    return rows.map((m) => ({
      id: m.id,
      description: m.description,
      observations: m.observations,
    }));
  }

  // ---------- keys ----------

  private keyView(k: AssessorKeyEntity): AssessorKeyView {
    return {
      kid: k.kid,
      publicJwk: k.publicJwk,
      status: k.status,
      createdAt: k.createdAt.toISOString(),
      retiredAt: k.retiredAt ? k.retiredAt.toISOString() : null,
    };
  }

  private async normalizeJwk(jwk: PublicJwk): Promise<{ kid: string; publicJwk: JWK }> {
    const raw = jwk as Record<string, unknown>;
    if ('d' in raw) throw new DomainError('invalid_jwk', 'send the public key only (no "d")', 400);
    const okp = jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.y === undefined;
    const ec = jwk.kty === 'EC' && jwk.crv === 'P-256' && jwk.y !== undefined;
    if (!okp && !ec) {
      throw new DomainError(
        'invalid_jwk',
        'expected an Ed25519 (OKP) or P-256 (EC) public key',
        400,
      );
    }
    const base: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(ec ? { y: jwk.y } : {}) };
    let kid: string;
    try {
      kid = jwk.kid ?? (await jwkThumbprint(base));
    } catch (e) {
      throw new DomainError('invalid_jwk', `not a valid key: ${String(e)}`, 400);
    }
    const alg = okp ? 'EdDSA' : 'ES256';
    return { kid, publicJwk: { ...base, kid, alg, use: 'sig' } };
  }

  async registerKey(orgId: string, jwk: PublicJwk): Promise<AssessorKeyView> {
    const { kid, publicJwk } = await this.normalizeJwk(jwk);
    const repo = this.db.getRepository(AssessorKeyEntity);
    if (await repo.findOneBy({ orgId, kid })) {
      throw new DomainError('duplicate_key', `a key with kid ${kid} is already registered`, 409, {
        kid,
      });
    }
    const saved = await repo.save({
      orgId,
      kid,
      publicJwk: publicJwk as Record<string, unknown>,
      status: 'active' as const,
      createdAt: this.clock.now(),
      retiredAt: null,
    });
    return this.keyView(saved);
  }

  /** Registers a new key and retires `retire` (default: every other active key). */
  async rotateKey(orgId: string, jwk: PublicJwk, retire?: string[]): Promise<AssessorKeyView[]> {
    const added = await this.registerKey(orgId, jwk);
    const active = await this.db
      .getRepository(AssessorKeyEntity)
      .findBy({ orgId, status: 'active' });
    for (const k of active) {
      if (k.kid === added.kid) continue;
      if (retire && !retire.includes(k.kid)) continue;
      await this.retireKey(orgId, k.kid);
    }
    return this.keys(orgId);
  }

  async retireKey(orgId: string, kid: string): Promise<AssessorKeyView> {
    const repo = this.db.getRepository(AssessorKeyEntity);
    const k = await repo.findOneBy({ orgId, kid });
    if (!k) throw notFound('key', { kid });
    if (k.status === 'active') {
      k.status = 'retired';
      k.retiredAt = this.clock.now();
      await repo.save(k);
    }
    return this.keyView(k);
  }

  async keys(orgId: string): Promise<AssessorKeyView[]> {
    const rows = await this.db
      .getRepository(AssessorKeyEntity)
      .find({ where: { orgId }, order: { createdAt: 'ASC' } });
    return rows.map((k) => this.keyView(k));
  }

  async jwks(orgId: string): Promise<{ keys: Record<string, unknown>[] }> {
    const org = await this.db.getRepository(OrganizationEntity).findOneBy({ id: orgId });
    if (!org || !org.roles.includes('assessor')) throw notFound('assessor');
    const rows = await this.db
      .getRepository(AssessorKeyEntity)
      .find({ where: { orgId, status: 'active' }, order: { createdAt: 'ASC' } });
    return { keys: rows.map((k) => k.publicJwk) };
  }

  async assessor(orgId: string): Promise<AssessorView> {
    const org = await this.db.getRepository(OrganizationEntity).findOneBy({ id: orgId });
    if (!org || !org.roles.includes('assessor')) throw notFound('assessor');
    const [rec] = await this.scores.assessorRecords([orgId], this.clock.now());
    return {
      orgId,
      name: org.name,
      accreditationLevel: rec.accreditationLevel,
      weight: assessorWeight(rec, BETA_V1),
      keys: await this.keys(orgId),
    };
  }

  async accredit(orgId: string, level: number): Promise<AssessorView> {
    const org = await this.db.getRepository(OrganizationEntity).findOneBy({ id: orgId });
    if (!org || !org.roles.includes('assessor')) throw notFound('assessor');
    await this.db
      .getRepository(AssessorAccreditationEntity)
      .save({ orgId, level, updatedAt: this.clock.now() });
    return this.assessor(orgId);
  }

  // ---------- evaluations ----------

  /** Resolves `sub`: a resource's CRI or handle (or id), or a seller organization's id. */
  private async subjectOf(
    sub: string,
  ): Promise<{ type: 'resource' | 'seller'; id: string; sellerOrgId: string }> {
    const unknown = refuse('unknown_subject', 422);
    if (UUID.test(sub)) {
      const org = await this.db.getRepository(OrganizationEntity).findOneBy({ id: sub });
      if (org && org.roles.includes('seller'))
        return { type: 'seller', id: org.id, sellerOrgId: org.id };
      throw unknown('no seller organization has this id', { sub });
    }
    try {
      const r = await this.registry.resolve(sub);
      const owner = await this.db.query<{ owner_org_id: string }[]>(
        'SELECT owner_org_id FROM resources WHERE id = $1',
        [r.id],
      );
      return { type: 'resource', id: r.id, sellerOrgId: owner[0].owner_org_id };
    } catch (e) {
      if (e instanceof DomainError)
        throw unknown(`no resource has this CRI or handle: ${e.message}`, { sub });
      throw e;
    }
  }

  /** Whether the two organizations traded (a lease either way) within the conflict window. */
  private async tradedRecently(a: string, b: string, now: Date): Promise<boolean> {
    const since = new Date(now.getTime() - CONFLICT_WINDOW_DAYS * 86_400_000);
    const n = await this.db
      .getRepository(LeaseEntity)
      .createQueryBuilder('l')
      .where(
        new Brackets((w) =>
          w
            .where('l.buyer_org_id = :a AND l.seller_org_id = :b')
            .orWhere('l.buyer_org_id = :b AND l.seller_org_id = :a'),
        ),
      )
      .andWhere('(l.ended_at IS NULL OR l.ended_at >= :since OR l.created_at >= :since)')
      .setParameters({ a, b, since })
      .getCount();
    return n > 0;
  }

  /** Verifies and stores a compact JWS evaluation, then recomputes the affected scores. */
  async submit(orgId: string, rawJws: string): Promise<EvaluationView> {
    const jws = rawJws.trim();
    const parts = jws.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
      throw new DomainError('invalid_jws', 'not a compact JWS (three base64url parts)', 400);
    }
    let header: { kid?: unknown; alg?: unknown };
    let claimed: unknown;
    try {
      header = decodeSegment(parts[0]) as { kid?: unknown; alg?: unknown };
      claimed = decodeSegment(parts[1]);
    } catch {
      throw new DomainError('invalid_jws', 'the JWS header or payload is not JSON', 400);
    }
    const parsed = evaluationPayloadSchema.safeParse(claimed);
    if (!parsed.success) {
      throw new DomainError('invalid_evaluation', 'the evaluation payload is not valid', 400, {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const payload: EvaluationPayload = parsed.data;
    if (payload.iss !== orgId) {
      throw new DomainError('issuer_mismatch', 'iss must be your own organization id', 403, {
        iss: payload.iss,
      });
    }
    if (typeof header.kid !== 'string') {
      throw new DomainError('unknown_key', 'the JWS header names no kid', 422);
    }
    const key = await this.db
      .getRepository(AssessorKeyEntity)
      .findOneBy({ orgId, kid: header.kid, status: 'active' });
    if (!key) {
      throw new DomainError('unknown_key', `no active key with kid ${header.kid}`, 422, {
        kid: header.kid,
      });
    }
    try {
      await verifyJws(jws, [key.publicJwk as JWK]);
    } catch (e) {
      if (e instanceof CryptoError) {
        throw new DomainError('bad_signature', `the signature does not verify: ${e.message}`, 422);
      }
      throw e;
    }
    const now = this.clock.now();
    const nowS = Math.floor(now.getTime() / 1000);
    if (payload.iat > nowS + IAT_SKEW_SECONDS) {
      throw new DomainError('issued_in_future', 'iat is in the future', 422, {
        iat: payload.iat,
        now: nowS,
      });
    }
    if (payload.exp <= nowS || payload.exp <= payload.iat) {
      throw new DomainError('evaluation_expired', 'exp has passed', 422, {
        exp: payload.exp,
        now: nowS,
      });
    }
    if (payload.exp - payload.iat > MAX_VALIDITY_SECONDS) {
      throw new DomainError(
        'validity_too_long',
        `exp may be at most ${MAX_VALIDITY_SECONDS} s after iat`,
        422,
        { iat: payload.iat, exp: payload.exp, maxSeconds: MAX_VALIDITY_SECONDS },
      );
    }
    if (!(await this.db.getRepository(EvaluationMethodEntity).existsBy({ id: payload.method }))) {
      throw new DomainError('unknown_method', `method ${payload.method} is not registered`, 422, {
        method: payload.method,
      });
    }
    const subject = await this.subjectOf(payload.sub);
    const evRepo = this.db.getRepository(EvaluationEntity);
    if (await evRepo.existsBy({ assessorOrgId: orgId, jti: payload.jti })) {
      throw new DomainError('jti_replayed', `jti ${payload.jti} was already submitted`, 409);
    }
    if (subject.sellerOrgId === orgId) {
      throw new DomainError(
        'conflict_of_interest',
        'you may not evaluate your own organization',
        422,
        {
          reason: 'own_organization',
        },
      );
    }
    if (await this.tradedRecently(orgId, subject.sellerOrgId, now)) {
      throw new DomainError(
        'conflict_of_interest',
        `you traded with this seller in the last ${CONFLICT_WINDOW_DAYS} days`,
        422,
        { reason: 'trading_partner', days: CONFLICT_WINDOW_DAYS },
      );
    }
    let saved: EvaluationEntity;
    try {
      saved = await evRepo.save({
        assessorOrgId: orgId,
        jti: payload.jti,
        kid: key.kid,
        subjectType: subject.type,
        subjectId: subject.id,
        sellerOrgId: subject.sellerOrgId,
        subjectRef: payload.sub,
        method: payload.method,
        payload,
        jws,
        issuedAt: new Date(payload.iat * 1000),
        expiresAt: new Date(payload.exp * 1000),
        receivedAt: now,
        revokedAt: null,
        revokeReason: null,
      });
    } catch (e) {
      if (e instanceof QueryFailedError && (e as { code?: string }).code === '23505') {
        throw new DomainError('jti_replayed', `jti ${payload.jti} was already submitted`, 409);
      }
      throw e;
    }
    await this.afterEvidence(subject.type, subject.id);
    return (await this.views([saved]))[0];
  }

  private async afterEvidence(type: 'resource' | 'seller', id: string): Promise<void> {
    if (type === 'resource') await this.scores.recomputeResource(id);
    else await this.scores.recompute('seller', id);
  }

  async revoke(orgId: string, id: string, reason?: string): Promise<EvaluationView> {
    const repo = this.db.getRepository(EvaluationEntity);
    const e = await repo.findOneBy({ id });
    if (!e) throw notFound('evaluation');
    // another assessor's evaluation is not theirs to see as a revocable object: 404, like any
    // other organization's object
    if (e.assessorOrgId !== orgId) throw notFound('evaluation');
    if (!e.revokedAt) {
      e.revokedAt = this.clock.now();
      e.revokeReason = reason ?? null;
      await repo.save(e);
      await this.afterEvidence(e.subjectType, e.subjectId);
    }
    return (await this.views([e]))[0];
  }

  async get(id: string): Promise<EvaluationView> {
    const e = await this.db.getRepository(EvaluationEntity).findOneBy({ id });
    if (!e) throw notFound('evaluation');
    return (await this.views([e]))[0];
  }

  /** Evaluations, newest first; `current` keeps only those that count now. */
  async list(q: {
    assessor?: string;
    subject?: string;
    include: 'current' | 'all';
  }): Promise<EvaluationView[]> {
    const qb = this.db
      .getRepository(EvaluationEntity)
      .createQueryBuilder('e')
      .orderBy('e.received_at', 'DESC')
      .limit(500);
    if (q.assessor) qb.andWhere('e.assessor_org_id = :a', { a: q.assessor });
    if (q.subject) {
      if (UUID.test(q.subject)) qb.andWhere('e.subject_id = :s', { s: q.subject });
      else {
        const s = await this.subjectOf(q.subject).catch(() => null);
        if (!s) return [];
        qb.andWhere('e.subject_id = :s', { s: s.id });
      }
    }
    if (q.include === 'current') {
      qb.andWhere('e.revoked_at IS NULL AND e.expires_at > :now', { now: this.clock.now() });
    }
    return this.views(await qb.getMany());
  }

  private async views(rows: EvaluationEntity[]): Promise<EvaluationView[]> {
    if (rows.length === 0) return [];
    const orgs = await this.db
      .getRepository(OrganizationEntity)
      .findBy({ id: In([...new Set(rows.map((e) => e.assessorOrgId))]) });
    const names = new Map(orgs.map((o) => [o.id, o.name]));
    const now = this.clock.now().getTime();
    return rows.map((e) => ({
      id: e.id,
      jti: e.jti,
      assessor: { id: e.assessorOrgId, name: names.get(e.assessorOrgId) ?? '' },
      kid: e.kid,
      subject: { type: e.subjectType, id: e.subjectId, ref: e.subjectRef },
      method: e.method,
      metrics: e.payload.metrics ?? {},
      summary: e.payload.summary ?? null,
      issuedAt: e.issuedAt.toISOString(),
      expiresAt: e.expiresAt.toISOString(),
      receivedAt: e.receivedAt.toISOString(),
      revokedAt: e.revokedAt ? e.revokedAt.toISOString() : null,
      revokeReason: e.revokeReason,
      status: e.revokedAt ? 'revoked' : e.expiresAt.getTime() <= now ? 'expired' : 'active',
      jws: e.jws,
    }));
  }

  // ---------- disputes ----------

  async recordDispute(input: {
    sellerOrgId: string;
    resourceId?: string;
    leaseId?: string;
    outcome: 'upheld' | 'rejected';
    note?: string;
  }): Promise<{ id: string }> {
    const d = await this.db.getRepository(DisputeEntity).save({
      sellerOrgId: input.sellerOrgId,
      resourceId: input.resourceId ?? null,
      leaseId: input.leaseId ?? null,
      outcome: input.outcome,
      note: input.note ?? null,
      decidedAt: this.clock.now(),
    });
    if (input.resourceId) await this.scores.recomputeResource(input.resourceId);
    else await this.scores.recompute('seller', input.sellerOrgId);
    return { id: d.id };
  }
}
