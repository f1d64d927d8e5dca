import { createHash, randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import type {
  AdminOrganizationView,
  LogInRequest,
  OrganizationView,
  Role,
  SessionView,
  SignUpRequest,
  UserView,
} from '@suanli/contracts';
import { hashPassword, randomToken, verifyPassword } from '@suanli/crypto';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/clock.js';
import { DomainError, notFound, unauthenticated } from '../common/errors.js';
import {
  OrganizationEntity,
  RefreshTokenEntity,
  UserEntity,
} from '../database/accounts.entities.js';
import { RegistrantEntity } from '../database/registry.entities.js';
import { TokensService } from '../auth/tokens.service.js';
import { OrganizationStateVerifier } from '../auth/verifiers.js';
import type { Principal } from '../auth/auth.decorators.js';
import { PrivacyService } from '../privacy/privacy.service.js';
import { LoginThrottle } from './login-throttle.js';
import { UsersRepository, type UserRecord } from './users.repository.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface NewOrganization {
  email: string;
  password: string;
  displayName: string;
  organization: { name: string; roles: Role[]; industry: string };
}

@Injectable()
export class AccountsService implements OnApplicationBootstrap, OrganizationStateVerifier {
  private readonly log = new Logger('accounts');
  private dummy: Promise<string> | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly tokens: TokensService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly users: UsersRepository,
    private readonly privacy: PrivacyService,
    private readonly throttle: LoginThrottle,
  ) {}

  /**
   * Encrypts members' e-mails and names still stored in plaintext (rows from before field
   * encryption), then creates the first operator from BOOTSTRAP_OPERATOR_* when there is none.
   */
  async onApplicationBootstrap(): Promise<void> {
    const encrypted = await this.users.backfillPlaintext();
    if (encrypted > 0) this.log.log(`encrypted the personal data of ${encrypted} member(s)`);
    const email = process.env.BOOTSTRAP_OPERATOR_EMAIL;
    const password = process.env.BOOTSTRAP_OPERATOR_PASSWORD;
    if (!email || !password) return;
    if (await this.users.emailExists(this.db.manager, email)) return;
    await this.createOrganization({
      email,
      password,
      displayName: 'Platform operator',
      organization: { name: 'Suanli Exchange operations', roles: ['operator'], industry: 'I' },
    });
    this.log.log('bootstrap operator created');
  }

  async signUp(req: SignUpRequest): Promise<SessionView> {
    const { user, org } = await this.createOrganization(req);
    return this.openSession(user, org);
  }

  /** Creates an organization with its first member; any roles (operators admit assessors this way). */
  async createOrganization(
    req: NewOrganization,
  ): Promise<{ user: UserRecord; org: OrganizationEntity }> {
    const passwordHash = await hashPassword(req.password);
    return this.db.transaction(async (m) => {
      if (await this.users.emailExists(m, req.email)) {
        throw new DomainError('conflict', 'an account with this e-mail already exists', 409, {
          field: 'email',
        });
      }
      if (req.organization.roles.includes('seller')) {
        await this.assertSellerNameFree(m, req.organization.name);
      }
      const org = await m.getRepository(OrganizationEntity).save({
        name: req.organization.name,
        roles: [...new Set(req.organization.roles)],
        industry: req.organization.industry,
      });
      const user = await this.users.create(m, {
        email: req.email,
        passwordHash,
        displayName: req.displayName,
        orgId: org.id,
      });
      if (org.roles.includes('seller')) await this.issueRegistrant(m, org.id);
      return { user, org };
    });
  }

  /**
   * Operators: every organization with its roles and number of members, newest first. The
   * names shown (a buyer's may be a natural person's) are written to the access log.
   */
  async listOrganizations(
    p: Principal,
    query: { role?: Role; q?: string; purpose?: string } = {},
  ): Promise<{ items: AdminOrganizationView[] }> {
    return this.db.transaction(async (m) => {
      const items = await this.organizations(m, query);
      await this.privacy.logOperatorReads(
        m,
        p,
        items.map((o) => o.id),
        ['organization.name', 'organization.members'],
        query.purpose ?? 'organization listing',
      );
      return { items };
    });
  }

  private async organizations(
    m: EntityManager,
    query: { role?: Role; q?: string },
  ): Promise<AdminOrganizationView[]> {
    const qb = m
      .getRepository(OrganizationEntity)
      .createQueryBuilder('o')
      .select(['o.id', 'o.name', 'o.roles', 'o.industry', 'o.createdAt'])
      .addSelect(
        (sub) => sub.select('count(*)::int').from(UserEntity, 'u').where('u.org_id = o.id'),
        'members',
      )
      .orderBy('o.createdAt', 'DESC')
      .limit(500);
    if (query.role) qb.andWhere(':role = ANY(o.roles)', { role: query.role });
    if (query.q) qb.andWhere('o.name ILIKE :q', { q: `%${query.q.replace(/[\\%_]/g, '\\$&')}%` });
    const { entities, raw } = await qb.getRawAndEntities<{ members: number }>();
    return entities.map((o, i) => ({
      id: o.id,
      name: o.name,
      roles: o.roles,
      industry: o.industry,
      members: Number(raw[i]?.members ?? 0),
      createdAt: o.createdAt.toISOString(),
    }));
  }

  async grantRoles(orgId: string, roles: Role[]): Promise<OrganizationView> {
    return this.db.transaction(async (m) => {
      const org = await m
        .getRepository(OrganizationEntity)
        .findOne({ where: { id: orgId }, lock: { mode: 'pessimistic_write' } });
      if (!org) throw notFound('organization');
      if (roles.includes('seller') && !org.roles.includes('seller')) {
        await this.assertSellerNameFree(m, org.name, org.id);
      }
      org.roles = [...new Set([...org.roles, ...roles])];
      await m.save(org);
      if (org.roles.includes('seller')) await this.issueRegistrant(m, org.id);
      return this.organizationView(m, org);
    });
  }

  /**
   * Same answer, in about the same time, for an unknown e-mail and a wrong password: without an
   * account the password is checked against a dummy hash of the same cost, so the response time
   * does not tell whether the e-mail has an account. Attempts are limited per account too.
   */
  async logIn(req: LogInRequest): Promise<SessionView> {
    await this.throttle.attempt(req.email);
    const user = await this.users.findByEmail(req.email);
    const hash = user && !user.passwordHash.startsWith('!') ? user.passwordHash : null;
    const ok = await verifyPassword(req.password, hash ?? (await this.dummyHash()));
    if (!user || !hash || !ok) throw unauthenticated('e-mail or password is wrong');
    await this.throttle.succeeded(req.email);
    const org = await this.db.getRepository(OrganizationEntity).findOneByOrFail({ id: user.orgId });
    return this.openSession(user, org);
  }

  /** A hash of a random password, made once, with the same parameters as members' hashes. */
  private dummyHash(): Promise<string> {
    this.dummy ??= hashPassword(randomToken(16));
    return this.dummy;
  }

  /**
   * Refresh tokens rotate: each is good once; the old one is revoked as the new one is issued,
   * in the same family. A used or revoked token presented again means that two parties hold the
   * family (a stolen token, or the victim after the thief): the whole family is revoked, and
   * that revocation commits although the answer is 401 (docs/security.md, "Sessions").
   */
  async refresh(refreshToken: string): Promise<SessionView> {
    const session = await this.db.transaction(async (m) => {
      const row = await m.getRepository(RefreshTokenEntity).findOne({
        where: { tokenHash: sha256(refreshToken) },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) return null;
      const now = this.clock.now();
      if (row.revokedAt) {
        const revoked = await this.revokeFamily(m, row.familyId);
        if (revoked > 0) this.log.warn(`refresh token reused: revoked its family (${revoked})`);
        return null;
      }
      if (row.expiresAt <= now) return null;
      row.revokedAt = now;
      await m.save(row);
      const user = await this.users.findById(row.userId, m);
      if (!user) return null;
      const org = await m.getRepository(OrganizationEntity).findOneByOrFail({ id: user.orgId });
      if (org.erasedAt) return null;
      return this.openSession(user, org, m, row.familyId);
    });
    if (!session) throw unauthenticated('the refresh token is invalid or expired');
    return session;
  }

  /**
   * Ends the session a refresh token belongs to (log-out): its whole family is revoked. Like
   * RFC 7009, the answer is the same whether or not the token was known or still live.
   */
  async revoke(refreshToken: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const row = await m
        .getRepository(RefreshTokenEntity)
        .findOneBy({ tokenHash: sha256(refreshToken) });
      if (row) await this.revokeFamily(m, row.familyId);
    });
  }

  /** Revokes every live token of a family; how many were live. */
  private async revokeFamily(m: EntityManager, familyId: string): Promise<number> {
    const r = await m.update(
      RefreshTokenEntity,
      { familyId, revokedAt: IsNull() },
      { revokedAt: this.clock.now() },
    );
    return r.affected ?? 0;
  }

  /**
   * Sellers' names are shown to every buyer: no seller may take another's (compared after NFKC,
   * case folding and collapsing spaces), so a sign-up cannot pass itself off as a known seller.
   * Buyers' names are not shown to others and may repeat (docs/security.md).
   */
  private async assertSellerNameFree(
    m: EntityManager,
    name: string,
    exceptOrgId: string | null = null,
  ): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('seller-names'))`);
    const taken = (await m.query(
      `SELECT 1 FROM organizations
       WHERE 'seller' = ANY(roles) AND erased_at IS NULL AND id IS DISTINCT FROM $2::uuid
         AND lower(regexp_replace(btrim(normalize(name, NFKC)), '\\s+', ' ', 'g'))
           = lower(regexp_replace(btrim(normalize($1::text, NFKC)), '\\s+', ' ', 'g'))
       LIMIT 1`,
      [name, exceptOrgId],
    )) as unknown[];
    if (taken.length > 0) {
      throw new DomainError(
        'conflict',
        'a seller with this organization name already exists',
        409,
        {
          field: 'organization.name',
        },
      );
    }
  }

  /** One primary-key lookup per authenticated request (the auth guard asks). */
  async assertNotErased(orgId: string): Promise<void> {
    const org = await this.db
      .getRepository(OrganizationEntity)
      .findOne({ where: { id: orgId }, select: { id: true, erasedAt: true } });
    if (!org || org.erasedAt) throw unauthenticated('the organization of this token was erased');
  }

  async me(userId: string): Promise<{ user: UserView; organization: OrganizationView }> {
    const user = await this.users.findById(userId);
    if (!user) throw notFound('user');
    const org = await this.db.getRepository(OrganizationEntity).findOneByOrFail({ id: user.orgId });
    return {
      user: userView(user),
      organization: await this.organizationView(this.db.manager, org),
    };
  }

  private async openSession(
    user: UserRecord,
    org: OrganizationEntity,
    m: EntityManager = this.db.manager,
    familyId: string = randomUUID(),
  ): Promise<SessionView> {
    const accessToken = await this.tokens.issueAccessToken({
      userId: user.id,
      orgId: org.id,
      roles: org.roles,
    });
    const refreshToken = randomToken(32);
    await m.getRepository(RefreshTokenEntity).save({
      userId: user.id,
      tokenHash: sha256(refreshToken),
      familyId,
      expiresAt: new Date(this.clock.now().getTime() + this.config.refreshTokenTtl * 1000),
      revokedAt: null,
    });
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.config.accessTokenTtl,
      user: userView(user),
      organization: await this.organizationView(m, org),
    };
  }

  private async organizationView(
    m: EntityManager,
    org: OrganizationEntity,
  ): Promise<OrganizationView> {
    const reg = await m.getRepository(RegistrantEntity).findOneBy({ orgId: org.id });
    return { id: org.id, name: org.name, roles: org.roles, registrant: reg?.code ?? null };
  }

  /** Sellers get a registrant code under this platform's prefix: `<root>.<platform>.E<5 base36>`. */
  private async issueRegistrant(m: EntityManager, orgId: string): Promise<void> {
    if (await m.getRepository(RegistrantEntity).exists({ where: { orgId } })) return;
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('registrants'))`);
    const [{ n }] = (await m.query(`SELECT count(*)::int + 1 AS n FROM registrants`)) as {
      n: number;
    }[];
    const entity = `E${n.toString(36).toUpperCase().padStart(5, '0')}`;
    await m
      .getRepository(RegistrantEntity)
      .save({ orgId, code: `${this.config.platformCode}.${entity}`, nextSerial: 1 });
  }
}

const userView = (u: UserRecord): UserView => ({
  id: u.id,
  email: u.email,
  displayName: u.displayName,
});
