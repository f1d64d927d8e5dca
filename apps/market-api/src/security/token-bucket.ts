/** A token bucket: `burst` tokens, refilled at `perSecond`; one token per request. */
export interface BucketLimit {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Outcome of taking a token: allowed, or refused with the seconds until one is available. */
export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * In-process token buckets keyed by caller (API key, address). Each process limits on its own:
 * the fallback of the shared buckets in PostgreSQL (`rate-limit-store.ts`), and
 * `RATE_LIMIT_STORE=memory`.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string): Take {
    const t = this.now();
    const { perSecond, burst } = this.limit;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.sweep(t);
      b = { tokens: burst, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forgets buckets that have refilled (they would start full anyway). */
  private sweep(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.limit.perSecond >= this.limit.burst) {
        this.buckets.delete(k);
      }
    }
    if (this.buckets.size >= this.maxKeys) this.buckets.clear();
  }
}
