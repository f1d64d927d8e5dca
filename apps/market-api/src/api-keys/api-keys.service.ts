import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, LessThan } from 'typeorm';
import type {
  ApiKeyScope,
  Role,
  ApiKeyView,
  CreateApiKeyRequest,
  CreatedApiKeyView,
} from '@suanli/contracts';
import { Clock } from '../common/clock.js';
import { forbidden, notFound, unauthenticated } from '../common/errors.js';
import { ApiKeyEntity, ApiKeyUseEntity } from './api-keys.entities.js';
import type { ApiKeyPrincipal, Principal } from '../auth/auth.decorators.js';
import { ApiKeyVerifier, type ApiKeyUse } from '../auth/verifiers.js';

export const API_KEY_PREFIX = 'sk_';

const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** The roles an organization needs to hold a key with each scope. */
const SCOPE_ROLES: Record<ApiKeyScope, Role[]> = {
  // usage is reported by the seller whose resources ran the leases
  'usage:write': ['seller'],
};

export interface ApiKeyUseView {
  usedAt: string;
  method: string;
  path: string;
  ip: string | null;
}

export interface ApiKeyUsePage {
  items: ApiKeyUseView[];
  /** Pass as `cursor` for the next (older) page. */
  nextCursor: string | null;
}

/** `last_used_at` is written at most this often per key (not on every request). */
const LAST_USED_RESOLUTION_MS = 60_000;

const view = (k: ApiKeyEntity): ApiKeyView => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes as ApiKeyScope[],
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

/** Organization API keys: created (secret shown once), listed, revoked, verified by hash. */
@Injectable()
export class ApiKeysService implements ApiKeyVerifier {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(p: Principal, req: CreateApiKeyRequest): Promise<CreatedApiKeyView> {
    for (const scope of req.scopes) {
      if (!SCOPE_ROLES[scope].some((r) => p.roles.includes(r))) {
        throw forbidden(
          `the scope ${scope} requires one of the roles: ${SCOPE_ROLES[scope].join(', ')}`,
        );
      }
    }
    const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const key = await this.db.getRepository(ApiKeyEntity).save({
      orgId: p.orgId,
      name: req.name,
      prefix: secret.slice(0, API_KEY_PREFIX.length + 8),
      secretHash: hashOf(secret),
      scopes: [...new Set(req.scopes)].sort(),
      createdBy: p.userId,
      createdAt: this.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
    });
    return { ...view(key), secret };
  }

  async list(p: Principal): Promise<ApiKeyView[]> {
    const keys = await this.db
      .getRepository(ApiKeyEntity)
      .find({ where: { orgId: p.orgId }, order: { createdAt: 'DESC' }, take: 500 });
    return keys.map(view);
  }

  async revoke(p: Principal, id: string): Promise<ApiKeyView> {
    const repo = this.db.getRepository(ApiKeyEntity);
    const key = await repo.findOneBy({ id, orgId: p.orgId });
    if (!key) throw notFound('api key');
    if (key.revokedAt === null) {
      key.revokedAt = this.clock.now();
      await repo.update({ id, revokedAt: IsNull() }, { revokedAt: key.revokedAt });
    }
    return view(key);
  }

  /** The key's uses, newest first (a key of another organization is not found). */
  async uses(
    p: Principal,
    id: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<ApiKeyUsePage> {
    const key = await this.db.getRepository(ApiKeyEntity).findOneBy({ id, orgId: p.orgId });
    if (!key) throw notFound('api key');
    const rows = await this.db.getRepository(ApiKeyUseEntity).find({
      where: { keyId: id, ...(cursor ? { id: LessThan(cursor) } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((u) => ({
        usedAt: u.usedAt.toISOString(),
        method: u.method,
        path: u.path,
        ip: u.ip,
      })),
      nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null,
    };
  }

  /**
   * Verifies a bearer `sk_…` for `scope`; records the use (time, method, path, address) and when
   * the key was last used.
   */
  async verify(secret: string, scope: ApiKeyScope, use?: ApiKeyUse): Promise<ApiKeyPrincipal> {
    if (!secret.startsWith(API_KEY_PREFIX)) throw unauthenticated('a valid API key is required');
    const repo = this.db.getRepository(ApiKeyEntity);
    const key = await repo.findOneBy({ secretHash: hashOf(secret) });
    if (!key || key.revokedAt !== null) throw unauthenticated('a valid API key is required');
    if (!key.scopes.includes(scope)) throw forbidden(`the API key lacks the scope ${scope}`);
    const now = this.clock.now();
    if (use) {
      await this.db.getRepository(ApiKeyUseEntity).insert({
        keyId: key.id,
        usedAt: now,
        method: use.method,
        path: use.path.slice(0, 300),
        ip: use.ip,
      });
    }
    if (
      key.lastUsedAt === null ||
      now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS
    ) {
      await repo.update({ id: key.id }, { lastUsedAt: now });
    }
    return { keyId: key.id, orgId: key.orgId, scopes: key.scopes as ApiKeyScope[] };
  }
}
