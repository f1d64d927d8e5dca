import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';
import { LoginThrottleEntity } from '../database/accounts.entities.js';
import { normalizeEmail } from '../privacy/blind-index.js';

/** Consecutive failures an account gets before it must wait. */
export const FREE_FAILURES = 5;
/** The longest wait between two attempts on one account. */
export const MAX_BACKOFF_SECONDS = 15 * 60;
/** A run of failures this old is forgotten. */
const FORGET_AFTER_MS = 60 * 60 * 1000;

/**
 * The wait after the n-th consecutive failed log-in: none for the first FREE_FAILURES - 1,
 * then 1 s, doubling, up to MAX_BACKOFF_SECONDS.
 */
export function backoffSeconds(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(failures - FREE_FAILURES, 20));
}

/**
 * Per-account log-in limit with exponential backoff (the edge limits log-ins per address only).
 * Keyed by an HMAC of the e-mail, whether or not it has an account, so that a refusal answers
 * the same for every e-mail. Every attempt counts as a failure when it starts (one short
 * transaction on the row, so concurrent guesses serialize and none escapes the count); a
 * successful log-in clears the count.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  private key(email: string): string {
    return createHmac('sha256', this.config.emailIndexKey)
      .update(`login\u0000${normalizeEmail(email)}`)
      .digest('hex');
  }

  /** Counts an attempt on the account, or refuses it (429) while the account must wait. */
  async attempt(email: string): Promise<void> {
    const key = this.key(email);
    const now = this.clock.now();
    const waitSeconds = await this.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO login_throttles (key, failures, blocked_until, updated_at)
         VALUES ($1, 0, NULL, $2) ON CONFLICT (key) DO NOTHING`,
        [key, now],
      );
      const row = await m
        .getRepository(LoginThrottleEntity)
        .findOneOrFail({ where: { key }, lock: { mode: 'pessimistic_write' } });
      if (row.blockedUntil && row.blockedUntil > now) {
        return Math.ceil((row.blockedUntil.getTime() - now.getTime()) / 1000);
      }
      const stale = now.getTime() - row.updatedAt.getTime() > FORGET_AFTER_MS;
      const failures = (stale ? 0 : row.failures) + 1;
      const wait = backoffSeconds(failures);
      await m.update(
        LoginThrottleEntity,
        { key },
        {
          failures,
          blockedUntil: wait > 0 ? new Date(now.getTime() + wait * 1000) : null,
          updatedAt: now,
        },
      );
      return 0;
    });
    if (waitSeconds > 0) {
      throw new DomainError(
        'rate_limited',
        `too many failed log-ins for this account; retry after ${waitSeconds} s`,
        429,
        { retryAfterSeconds: waitSeconds },
      );
    }
  }

  /**
   * Deletes rows the limit no longer reads: a run of failures older than FORGET_AFTER_MS whose
   * wait is over counts as none (`attempt`), so the row only takes space. At most `batch` rows
   * per call; returns how many went.
   */
  async purgeForgotten(batch = 10_000): Promise<number> {
    const now = this.clock.now();
    const before = new Date(now.getTime() - FORGET_AFTER_MS);
    const [{ n }] = await this.db.query<{ n: number }[]>(
      `WITH gone AS (
         DELETE FROM login_throttles WHERE key IN (
           SELECT key FROM login_throttles
            WHERE updated_at < $1 AND (blocked_until IS NULL OR blocked_until <= $2)
            LIMIT $3
              FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [before, now, batch],
    );
    return n;
  }

  /** A successful log-in: the account's count starts again. */
  async succeeded(email: string): Promise<void> {
    await this.db.getRepository(LoginThrottleEntity).delete({ key: this.key(email) });
  }
}
