import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  epochSeconds,
  FederationError,
  signAssertion,
  verifyAssertion,
  type AssertionClaims,
} from '@suanli/federation';
import { DataSource, LessThan } from 'typeorm';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';
import { DirectoryService } from './directory.service.js';
import { FederationConfig } from './federation.config.js';
import { FederationAssertionJtiEntity } from './federation.entities.js';
import { PlatformIdentity } from './platform-identity.js';

/** The header a platform-to-platform call carries its client assertion in. */
export const ASSERTION_HEADER = 'suanli-client-assertion';

export type PeerAnswer = { status: number; body: Record<string, unknown> };

/** Thrown when the other platform could not be reached (or answered 5xx) after the retries. */
export class PeerUnreachable extends Error {}

/**
 * Platform-to-platform calls (docs/federation.md, "Platform-to-platform calls"): outgoing calls
 * sign a fresh client assertion each; incoming ones are verified against the directory and their
 * `jti` is stored in PostgreSQL until it expires, so a replay is refused on every instance.
 */
@Injectable()
export class PeerCalls {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: FederationConfig,
    private readonly self: PlatformIdentity,
    private readonly directory: DirectoryService,
  ) {}

  /** The caller of an incoming call, or 401 (forged, expired, replayed, unknown, suspended). */
  async authenticate(assertion: string | undefined): Promise<AssertionClaims> {
    if (!assertion) {
      throw new DomainError(
        'unauthenticated',
        `a client assertion (${ASSERTION_HEADER}) is required`,
        401,
      );
    }
    const directory = await this.directory.directory();
    if (!directory) {
      throw new DomainError('unauthenticated', 'this platform is not in a federation', 401);
    }
    let claims: AssertionClaims;
    try {
      claims = await verifyAssertion(assertion, {
        audience: this.self.code,
        directory,
        nowSeconds: epochSeconds(this.clock.now().getTime()),
      });
    } catch (e) {
      if (e instanceof FederationError) {
        throw new DomainError('unauthenticated', `client assertion refused: ${e.message}`, 401, {
          reason: e.code,
        });
      }
      throw e;
    }
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO federation_assertion_jtis (jti, iss, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (jti) DO NOTHING RETURNING jti`,
      [claims.jti, claims.iss, new Date(claims.exp * 1000)],
    );
    if (inserted.length === 0) {
      throw new DomainError('unauthenticated', 'client assertion refused: jti already used', 401, {
        reason: 'replayed',
      });
    }
    return claims;
  }

  /** Drops `jti`s whose assertions expired (they can no longer be replayed anyway). */
  async pruneJtis(): Promise<void> {
    await this.db
      .getRepository(FederationAssertionJtiEntity)
      .delete({ expiresAt: LessThan(new Date(this.clock.now().getTime() - 60_000)) });
  }

  /**
   * GET `url` on platform `aud` with a fresh assertion; one retry after a short backoff when the
   * platform cannot be reached. 4xx answers are returned; unreachable or 5xx throws PeerUnreachable.
   */
  get(aud: string, url: string, headers: Record<string, string> = {}): Promise<PeerAnswer> {
    return this.call('GET', aud, url, undefined, headers);
  }

  /** POST `body` (JSON) to `url` on platform `aud`, as {@link get}. */
  post(aud: string, url: string, body: unknown): Promise<PeerAnswer> {
    return this.call('POST', aud, url, body, { 'content-type': 'application/json' });
  }

  private async call(
    method: 'GET' | 'POST',
    aud: string,
    url: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<PeerAnswer> {
    let last: unknown;
    for (const backoff of [0, 200]) {
      if (backoff) await new Promise((r) => setTimeout(r, backoff));
      try {
        const assertion = await signAssertion(
          { iss: this.self.code, aud, nowSeconds: epochSeconds(this.clock.now().getTime()) },
          this.self.privateJwk,
        );
        const res = await fetch(url, {
          method,
          headers: { accept: 'application/json', [ASSERTION_HEADER]: assertion, ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.config.callTimeoutMs),
        });
        const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
        if (res.status >= 500) {
          last = new Error(`${aud} answered ${res.status}`);
          continue;
        }
        return { status: res.status, body: answer };
      } catch (e) {
        last = e;
      }
    }
    throw new PeerUnreachable(`${aud} is unreachable: ${(last as Error)?.message ?? 'no answer'}`);
  }
}
