import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import type {
  ApiKeyScope,
  ApiKeyView,
  CreateApiKeyRequest,
  CreatedApiKeyView,
} from '@suanli/contracts';
import { Clock } from '../common/clock.js';
import { forbidden, notFound, unauthenticated } from '../common/errors.js';
import { ApiKeyEntity } from '../database/entities.js';
import type { ApiKeyPrincipal, Principal } from '../auth/auth.decorators.js';

export const API_KEY_PREFIX = 'sk_';

const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

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
export class ApiKeysService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(p: Principal, req: CreateApiKeyRequest): Promise<CreatedApiKeyView> {
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

  /** Verifies a bearer `sk_…` for `scope`; records when the key was last used. */
  async verify(secret: string, scope: ApiKeyScope): Promise<ApiKeyPrincipal> {
    if (!secret.startsWith(API_KEY_PREFIX)) throw unauthenticated('a valid API key is required');
    const repo = this.db.getRepository(ApiKeyEntity);
    const key = await repo.findOneBy({ secretHash: hashOf(secret) });
    if (!key || key.revokedAt !== null) throw unauthenticated('a valid API key is required');
    if (!key.scopes.includes(scope)) throw forbidden(`the API key lacks the scope ${scope}`);
    const now = this.clock.now();
    if (
      key.lastUsedAt === null ||
      now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS
    ) {
      await repo.update({ id: key.id }, { lastUsedAt: now });
    }
    return { keyId: key.id, orgId: key.orgId, scopes: key.scopes as ApiKeyScope[] };
  }
}
