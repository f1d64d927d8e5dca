import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  authorityOf,
  entryOf,
  epochSeconds,
  FederationError,
  hopsOf,
  HOPS_HEADER,
  RESOLUTION_HOP_LIMIT,
  resolutionCacheState,
  signResolutionRecord,
  verifyResolutionRecord,
} from '@suanli/federation';
import type { FederatedResolutionView, ResolutionView } from '@suanli/contracts';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';
import { RegistryService } from '../registry/registry.service.js';
import { DirectoryService } from './directory.service.js';
import { FederationConfig } from './federation.config.js';
import { FederationResolutionCacheEntity } from './federation.entities.js';
import { PeerCalls, PeerUnreachable } from './peer-calls.js';
import { PlatformIdentity } from './platform-identity.js';

type FederatedResolution = FederatedResolutionView;

/**
 * The identifier gateway across the federation (docs/federation.md, section 1): a local code is
 * answered and signed here; a foreign one is forwarded to the owner the directory names, its
 * signed record returned unchanged, cached fresh 60 s and served stale up to 10 min while the
 * owner is unreachable.
 */
@Injectable()
export class ResolutionService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly self: PlatformIdentity,
    private readonly registry: RegistryService,
    private readonly directory: DirectoryService,
    private readonly peers: PeerCalls,
    private readonly config: FederationConfig,
  ) {}

  /** This platform's own answer for one of its codes, with its signed record. */
  async local(code: string): Promise<FederatedResolution> {
    const view = await this.registry.resolve(code);
    const record = await signResolutionRecord(
      {
        authority: this.self.code,
        code,
        nowSeconds: epochSeconds(this.clock.now().getTime()),
        resolution: view as unknown as Record<string, unknown>,
      },
      this.self.privateJwk,
    );
    return { ...view, authority: this.self.code, forwarded: false, stale: false, record };
  }

  async resolve(code: string, hopsHeader?: string): Promise<FederatedResolution> {
    let authority: string;
    try {
      authority = authorityOf(code);
    } catch {
      return this.local(code); // the registry names the malformed segment (400)
    }
    if (authority === this.self.code) return this.local(code);
    const directory = await this.directory.directory();
    if (!directory) return this.local(code); // outside a federation: 404 naming the authority
    const owner = entryOf(directory, authority);
    if (!owner) {
      throw new DomainError('not_found', `${authority} is not a platform of the federation`, 404, {
        code,
        authority,
        known: false,
        forwarded: false,
      });
    }
    if (owner.state !== 'active') {
      throw new DomainError('not_found', `${authority} is ${owner.state}`, 404, {
        code,
        authority,
        state: owner.state,
        forwarded: false,
      });
    }
    const hops = hopsOf(hopsHeader);
    if (hops >= RESOLUTION_HOP_LIMIT) {
      throw new DomainError('hop_limit_exceeded', `resolution of ${code} took too many hops`, 508, {
        code,
        hops,
        limit: RESOLUTION_HOP_LIMIT,
      });
    }
    const cacheRepo = this.db.getRepository(FederationResolutionCacheEntity);
    const cached = await cacheRepo.findOneBy({ code });
    const now = this.clock.now().getTime();
    const state = cached
      ? resolutionCacheState(cached.fetchedAt.getTime(), now, this.config.resolutionCache)
      : 'expired';
    if (cached && state === 'fresh') return this.forwarded(cached.record, false);

    let answer: Awaited<ReturnType<PeerCalls['get']>>;
    try {
      answer = await this.peers.get(
        authority,
        `${owner.url}/v1/federation/records/${encodeURIComponent(code)}`,
        { [HOPS_HEADER]: String(hops + 1) },
      );
    } catch (e) {
      if (!(e instanceof PeerUnreachable)) throw e;
      if (cached && state === 'stale') return this.forwarded(cached.record, true);
      throw new DomainError('upstream_unreachable', `${authority} does not answer`, 504, {
        code,
        authority,
        forwarded: true,
      });
    }
    if (answer.status !== 200 || typeof answer.body.record !== 'string') {
      const error = (answer.body.error ?? {}) as { code?: string; message?: string };
      if (answer.status === 404) await cacheRepo.delete({ code });
      throw new DomainError(
        answer.status === 404 ? 'not_found' : 'upstream_unreachable',
        `${authority} answered ${answer.status}: ${error.message ?? 'no record'}`,
        answer.status === 404 ? 404 : 502,
        { code, authority, forwarded: true, upstream: error.code ?? null },
      );
    }
    const record = answer.body.record;
    try {
      const { record: r } = await verifyResolutionRecord(record, directory);
      if (r.code !== code) throw new FederationError('malformed', 'a record for another code');
    } catch (e) {
      throw new DomainError(
        'upstream_unreachable',
        `${authority} answered a record that does not verify: ${(e as Error).message}`,
        502,
        { code, authority, forwarded: true },
      );
    }
    await cacheRepo.save({ code, authority, record, fetchedAt: new Date(now) });
    return this.forwarded(record, false);
  }

  private forwarded(record: string, stale: boolean): FederatedResolution {
    const payload = JSON.parse(Buffer.from(record.split('.')[1] ?? '', 'base64url').toString()) as {
      authority: string;
      resolution: ResolutionView;
    };
    return { ...payload.resolution, authority: payload.authority, forwarded: true, stale, record };
  }
}
