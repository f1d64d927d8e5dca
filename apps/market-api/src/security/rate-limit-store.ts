import type { DataSource } from 'typeorm';
import { type BucketLimit, type Take, TokenBuckets } from './token-bucket.js';

/** One bucket a request takes a token from. */
export interface BucketRequest {
  key: string;
  limit: BucketLimit;
}

/** Takes one token from each bucket at once; the answers come in the same order. */
export interface RateLimitStore {
  take(buckets: BucketRequest[]): Promise<Take[]>;
}

/** Per-process buckets: each instance limits on its own (tests, a single instance). */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly byLimit = new Map<string, TokenBuckets>();

  take(buckets: BucketRequest[]): Promise<Take[]> {
    return Promise.resolve(buckets.map((b) => this.bucketsFor(b.limit).take(b.key)));
  }

  private bucketsFor(limit: BucketLimit): TokenBuckets {
    const id = `${limit.perSecond}/${limit.burst}`;
    let b = this.byLimit.get(id);
    if (!b) {
      b = new TokenBuckets(limit);
      this.byLimit.set(id, b);
    }
    return b;
  }
}

/**
 * The GCRA upsert: for every bucket of the request, in one statement and one round trip, the
 * next theoretical arrival time moves by one interval if that stays within the burst, and the
 * row says whether it did. Concurrent requests on one bucket serialize on its row lock (ON
 * CONFLICT DO UPDATE re-reads the latest version), so N instances share exactly one limit.
 * Times are PostgreSQL's clock: instances' clocks may differ, the database's is one.
 */
const TAKE_SQL = `
WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS s)
INSERT INTO rate_limit_buckets AS b (key, tat, interval_s, burst, allowed)
SELECT r.key, now.s + r.interval_s, r.interval_s, r.burst, true
FROM unnest($1::text[], $2::float8[], $3::int[]) AS r(key, interval_s, burst), now
ON CONFLICT (key) DO UPDATE SET
  interval_s = EXCLUDED.interval_s,
  burst = EXCLUDED.burst,
  allowed = greatest(b.tat, EXCLUDED.tat - EXCLUDED.interval_s) + EXCLUDED.interval_s
    - (EXCLUDED.tat - EXCLUDED.interval_s) <= EXCLUDED.burst * EXCLUDED.interval_s,
  tat = CASE
    WHEN greatest(b.tat, EXCLUDED.tat - EXCLUDED.interval_s) + EXCLUDED.interval_s
      - (EXCLUDED.tat - EXCLUDED.interval_s) <= EXCLUDED.burst * EXCLUDED.interval_s
    THEN greatest(b.tat, EXCLUDED.tat - EXCLUDED.interval_s) + EXCLUDED.interval_s
    ELSE b.tat END
RETURNING b.key, b.allowed,
  greatest(1, ceil(b.tat + b.interval_s - b.burst * b.interval_s
    - extract(epoch FROM clock_timestamp())))::int AS retry_after`;

/** A full bucket is the same as none: rows whose time has passed are deleted now and then. */
const SWEEP_SQL =
  'DELETE FROM rate_limit_buckets WHERE tat < extract(epoch FROM clock_timestamp())';

/**
 * Buckets in PostgreSQL, shared by every instance on the database: one statement per request.
 * If the database cannot answer within `timeoutMs` (down, failing over, pool exhausted), the
 * request is limited by per-process buckets instead: the API is neither made unavailable nor
 * slowed down by its rate limiter (`/health/live` keeps answering while PostgreSQL is away).
 */
export class PostgresRateLimitStore implements RateLimitStore {
  private lastSweep = Date.now();
  private readonly fallback = new MemoryRateLimitStore();
  private warnedAt = 0;

  constructor(
    private readonly db: DataSource,
    private readonly warn: (message: string) => void = () => undefined,
    private readonly timeoutMs = 250,
    private readonly sweepEveryMs = 60_000,
  ) {}

  async take(buckets: BucketRequest[]): Promise<Take[]> {
    if (buckets.length === 0) return [];
    this.maybeSweep();
    try {
      const rows = await this.withTimeout(
        this.db.query<{ key: string; allowed: boolean; retry_after: number }[]>(TAKE_SQL, [
          buckets.map((b) => b.key),
          buckets.map((b) => 1 / b.limit.perSecond),
          buckets.map((b) => b.limit.burst),
        ]),
      );
      const byKey = new Map(rows.map((r) => [r.key, r]));
      return buckets.map((b): Take => {
        const r = byKey.get(b.key);
        if (!r || r.allowed) return { ok: true };
        return { ok: false, retryAfterSeconds: Number(r.retry_after) };
      });
    } catch (e) {
      const now = Date.now();
      if (now - this.warnedAt > 60_000) {
        this.warnedAt = now;
        this.warn(`rate limits: database unavailable, limiting per process (${String(e)})`);
      }
      return this.fallback.take(buckets);
    }
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    p.catch(() => undefined); // a late failure after the timeout is not unhandled
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  private maybeSweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.db.query(SWEEP_SQL).catch(() => undefined);
  }
}
