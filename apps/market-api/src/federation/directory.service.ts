import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { jwkThumbprint, type JWK } from '@suanli/crypto';
import {
  directoryRefreshAt,
  epochSeconds,
  FederationError,
  levelOfCode,
  signDirectory,
  verifyDirectory,
  verifyJoinRequest,
  type Directory,
  type DirectoryEntry,
} from '@suanli/federation';
import type { AdmitPlatformInput } from '@suanli/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError, invalidState, notFound } from '../common/errors.js';
import { FederationConfig } from './federation.config.js';
import { FederationDirectoryEntity, FederationPlatformEntity } from './federation.entities.js';
import { PlatformIdentity } from './platform-identity.js';

export interface PlatformView {
  code: string;
  level: string;
  name: string;
  url: string;
  state: string;
  admittedThumbprints: string[];
  thumbprints: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Actor {
  userId: string;
  orgId: string;
}

const platformView = async (p: FederationPlatformEntity): Promise<PlatformView> => ({
  code: p.code,
  level: p.level,
  name: p.name,
  url: p.url,
  state: p.state,
  admittedThumbprints: p.admittedThumbprints,
  thumbprints: await Promise.all(p.keys.map((k) => jwkThumbprint(k as JWK))),
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

/** Serializes directory publication on the national platform (one serial per change). */
const PUBLISH_LOCK = 0x66656430;

/**
 * The directory (docs/federation.md, "Platforms and the directory"). On the national platform:
 * the operator's admissions, the join handshake and the signed directory it publishes. On a
 * member: the directory fetched from the national platform, verified against the pinned
 * thumbprints and cached (a refused one leaves the cached one in place).
 */
@Injectable()
export class DirectoryService {
  private readonly log = new Logger('federation');
  private current: { directory: Directory; jws: string } | undefined;
  /** The last refusal of a fetched directory (status page, tests). */
  lastRefusal: { at: string; code: string; message: string } | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: FederationConfig,
    private readonly self: PlatformIdentity,
    private readonly audit: AuditService,
  ) {}

  get enabled(): boolean {
    return this.self.isNational || this.config.nationalUrl !== undefined;
  }

  private nationalOnly(): void {
    if (!this.self.isNational) {
      throw new DomainError('forbidden', 'only the national platform keeps the directory', 403);
    }
  }

  // ---- national: the operator's admissions -------------------------------------------------

  async list(): Promise<PlatformView[]> {
    this.nationalOnly();
    const rows = await this.db
      .getRepository(FederationPlatformEntity)
      .find({ order: { code: 'ASC' } });
    return Promise.all(rows.map(platformView));
  }

  /** Admits a platform (or re-admits a removed one, or updates the thumbprints: key rotation). */
  async admit(input: AdmitPlatformInput, actor: Actor): Promise<PlatformView> {
    this.nationalOnly();
    if (input.code === this.self.code) {
      throw new DomainError('validation_failed', 'the national platform lists itself', 400, {
        field: 'code',
      });
    }
    const level = levelOfCode(input.code);
    if (level === 'national') {
      throw new DomainError('validation_failed', 'only regional and industry platforms join', 400, {
        field: 'code',
      });
    }
    return this.change(actor, 'federation.platform.admitted', input.code, async (m, now) => {
      const repo = m.getRepository(FederationPlatformEntity);
      const old = await repo.findOneBy({ code: input.code });
      const row: FederationPlatformEntity = {
        code: input.code,
        level,
        name: input.name,
        url: input.url.replace(/\/$/, ''),
        admittedThumbprints: input.thumbprints,
        // keys already proven stay listed while the operator still admits their thumbprints
        keys: [],
        state: 'admitted',
        createdAt: old?.createdAt ?? now,
        updatedAt: now,
      };
      if (old && old.state !== 'removed') {
        const kept: Record<string, unknown>[] = [];
        for (const k of old.keys) {
          if (input.thumbprints.includes(await jwkThumbprint(k as JWK))) kept.push(k);
        }
        row.keys = kept;
        row.state = kept.length > 0 ? old.state : 'admitted';
      }
      await repo.save(row);
      return { row, details: { thumbprints: input.thumbprints, url: row.url } };
    });
  }

  async setState(
    code: string,
    to: 'suspended' | 'active' | 'removed',
    actor: Actor,
  ): Promise<PlatformView> {
    this.nationalOnly();
    const action = { suspended: 'suspended', active: 'resumed', removed: 'removed' }[to];
    return this.change(actor, `federation.platform.${action}`, code, async (m, now) => {
      const repo = m.getRepository(FederationPlatformEntity);
      const row = await repo.findOne({ where: { code }, lock: { mode: 'pessimistic_write' } });
      if (!row || row.state === 'removed') throw notFound('platform', { code });
      if (to === 'active' && row.state !== 'suspended') {
        throw invalidState(`${code} is ${row.state}, not suspended`, { state: row.state });
      }
      const from = row.state;
      row.state = to;
      row.updatedAt = now;
      if (to === 'removed') row.keys = [];
      await repo.save(row);
      return { row, details: { from, to } };
    });
  }

  /** The join handshake: the platform proves possession of a key the operator admitted. */
  async join(requestJws: string): Promise<{ platform: PlatformView; directory: string }> {
    this.nationalOnly();
    let claimedCode: string;
    try {
      const payload = JSON.parse(
        Buffer.from(requestJws.split('.')[1] ?? '', 'base64url').toString('utf8'),
      ) as { code?: unknown };
      claimedCode = typeof payload.code === 'string' ? payload.code : '';
    } catch {
      claimedCode = '';
    }
    const result = await this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      const repo = m.getRepository(FederationPlatformEntity);
      const row = await repo.findOneBy({ code: claimedCode });
      if (!row || row.state === 'removed') {
        throw new DomainError(
          'unauthenticated',
          `${claimedCode || 'the platform'} is not admitted`,
          401,
        );
      }
      if (row.state === 'suspended') {
        throw new DomainError('unauthenticated', `${row.code} is suspended`, 401);
      }
      const now = this.clock.now();
      let verified: Awaited<ReturnType<typeof verifyJoinRequest>>;
      try {
        verified = await verifyJoinRequest(requestJws, {
          national: this.self.code,
          code: row.code,
          admittedThumbprints: row.admittedThumbprints,
          nowSeconds: epochSeconds(now.getTime()),
        });
      } catch (e) {
        if (e instanceof FederationError) {
          await this.audit.record(
            {
              action: 'federation.platform.joined',
              outcome: 'failed',
              targetType: 'platform',
              targetId: row.code,
              details: { reason: e.code },
            },
            m,
          );
          throw new DomainError('unauthenticated', `join refused: ${e.message}`, 401, {
            reason: e.code,
          });
        }
        throw e;
      }
      row.keys = verified.keys as Record<string, unknown>[];
      row.url = verified.request.url.replace(/\/$/, '');
      row.name = verified.request.name;
      row.state = 'active';
      row.updatedAt = now;
      await repo.save(row);
      await this.audit.record(
        {
          action: 'federation.platform.joined',
          targetType: 'platform',
          targetId: row.code,
          details: { thumbprints: verified.thumbprints, signedBy: verified.signedBy },
        },
        m,
      );
      const published = await this.publishIn(m, now);
      return { row, directory: published };
    });
    return { platform: await platformView(result.row), directory: result.directory };
  }

  private async change(
    actor: Actor,
    action: string,
    code: string,
    apply: (
      m: EntityManager,
      now: Date,
    ) => Promise<{ row: FederationPlatformEntity; details: Record<string, unknown> }>,
  ): Promise<PlatformView> {
    const row = await this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      const now = this.clock.now();
      const { row, details } = await apply(m, now);
      await this.audit.record(
        {
          action,
          actorUserId: actor.userId,
          actorOrgId: actor.orgId,
          targetType: 'platform',
          targetId: code,
          details,
        },
        m,
      );
      await this.publishIn(m, now);
      return row;
    });
    return platformView(row);
  }

  // ---- national: the signed directory ------------------------------------------------------

  /** Signs the next directory (serial + 1) from the platforms' rows; inside the publish lock. */
  private async publishIn(m: EntityManager, now: Date): Promise<string> {
    const rows = await m
      .getRepository(FederationPlatformEntity)
      .createQueryBuilder('p')
      .where(`p.state IN ('active', 'suspended')`)
      .orderBy('p.code')
      .getMany();
    const entries: DirectoryEntry[] = [await this.self.entry()];
    for (const r of rows) {
      if (r.keys.length === 0) continue;
      const keys = r.keys as JWK[];
      entries.push({
        code: r.code,
        level: r.level as DirectoryEntry['level'],
        name: r.name,
        url: r.url,
        keys,
        thumbprints: await Promise.all(keys.map((k) => jwkThumbprint(k))),
        state: r.state as DirectoryEntry['state'],
      });
    }
    const repo = m.getRepository(FederationDirectoryEntity);
    const last = await repo.findOneBy({ role: 'published' });
    const iat = epochSeconds(now.getTime());
    const exp = iat + this.config.directoryTtlSeconds;
    const serial = Number(last?.serial ?? 0) + 1;
    const jws = await signDirectory(
      { national: this.self.code, serial, iat, exp, platforms: entries },
      this.self.privateJwk,
    );
    await repo.save({
      role: 'published',
      serial: String(serial),
      jws,
      exp: new Date(exp * 1000),
      updatedAt: now,
    });
    this.current = { directory: await this.verifyOwn(jws), jws };
    return jws;
  }

  private verifyOwn(jws: string): Promise<Directory> {
    return Promise.all(this.self.publicKeys().map((k) => jwkThumbprint(k))).then((pins) =>
      verifyDirectory(jws, { pins, nowSeconds: epochSeconds(this.clock.now().getTime()) }),
    );
  }

  /**
   * The national platform's current directory, signed again (next serial) when it passed half
   * its lifetime or this platform's own keys changed since (a rotation).
   */
  async published(): Promise<string> {
    this.nationalOnly();
    const now = this.clock.now();
    const row = await this.db
      .getRepository(FederationDirectoryEntity)
      .findOneBy({ role: 'published' });
    if (row) {
      try {
        const d = await this.verifyOwn(row.jws);
        const own = d.platforms.find((p) => p.code === this.self.code);
        const ownNow = await this.self.entry();
        const sameKeys = JSON.stringify(own?.thumbprints) === JSON.stringify(ownNow.thumbprints);
        if (sameKeys && epochSeconds(now.getTime()) < directoryRefreshAt(d)) {
          this.current = { directory: d, jws: row.jws };
          return row.jws;
        }
      } catch {
        // expired or signed by a key no longer ours: sign a fresh one below
      }
    }
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      return this.publishIn(m, this.clock.now());
    });
  }

  // ---- every platform: the directory in force ----------------------------------------------

  /** The verified directory this platform acts on, or undefined outside a federation. */
  async directory(): Promise<Directory | undefined> {
    if (this.self.isNational) {
      if (!this.current || this.current.directory.exp <= epochSeconds(this.clock.now().getTime())) {
        await this.published();
      }
      return this.current?.directory;
    }
    if (!this.config.nationalUrl) return undefined;
    if (!this.current) await this.loadCached();
    return this.current?.directory;
  }

  private async loadCached(): Promise<void> {
    const row = await this.db
      .getRepository(FederationDirectoryEntity)
      .findOneBy({ role: 'cached' });
    if (!row) return;
    try {
      const directory = await verifyDirectory(row.jws, {
        pins: this.config.pins,
        nowSeconds: epochSeconds(this.clock.now().getTime()),
      });
      this.current = { directory, jws: row.jws };
    } catch (e) {
      this.log.warn(`cached directory no longer valid: ${(e as Error).message}`);
    }
  }

  /**
   * A member's acceptance of a fetched directory: verified against the pins, not older than the
   * cached one (nor a fork of it), then cached. A refusal keeps the cached one and is recorded.
   */
  async accept(jws: string): Promise<{ accepted: boolean; serial: number; refusal?: string }> {
    if (!this.current) await this.loadCached();
    const cached = this.current;
    try {
      const directory = await verifyDirectory(jws, {
        pins: this.config.pins,
        nowSeconds: epochSeconds(this.clock.now().getTime()),
        cached: cached ? { serial: cached.directory.serial, jws: cached.jws } : undefined,
      });
      if (cached && cached.jws === jws) return { accepted: true, serial: directory.serial };
      await this.db.getRepository(FederationDirectoryEntity).save({
        role: 'cached',
        serial: String(directory.serial),
        jws,
        exp: new Date(directory.exp * 1000),
        updatedAt: this.clock.now(),
      });
      this.current = { directory, jws };
      return { accepted: true, serial: directory.serial };
    } catch (e) {
      if (!(e instanceof FederationError)) throw e;
      this.lastRefusal = { at: this.clock.now().toISOString(), code: e.code, message: e.message };
      this.log.warn(`directory refused (${e.code}): ${e.message}; the cached one is kept`);
      return { accepted: false, serial: cached?.directory.serial ?? 0, refusal: e.code };
    }
  }

  /** The signed directory this platform acts on (national: its own; member: the cached one). */
  async signed(): Promise<string | undefined> {
    await this.directory();
    return this.current?.jws;
  }
}
