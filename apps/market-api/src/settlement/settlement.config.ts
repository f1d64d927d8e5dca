import { z } from 'zod';
import { DEV_PSEUDONYM_SECRET, pseudonymSecretFrom } from '../privacy/pseudonym-secret.js';

const schema = z.object({
  /** Minutes to wait after an hour closes before settling it (late usage). Default 0. */
  SETTLEMENT_LAG_MINUTES: z.coerce.number().int().min(0).max(1440).default(0),
  /** Minutes a suspended lease may wait for a top-up before it ends. Default 15. */
  SETTLEMENT_GRACE_MINUTES: z.coerce.number().int().min(0).max(1440).default(15),
  /** `off` disables the in-process scheduler (tests run settlement by hand). */
  SETTLEMENT_SCHEDULER: z.enum(['on', 'off']).default('on'),
  SETTLEMENT_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Leases settled at once by one run (each in its own transactions; row locks keep it safe). */
  SETTLEMENT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Leases per transaction of the batched run (set-based SQL); 0 = per lease only. */
  SETTLEMENT_BATCH_SIZE: z.coerce.number().int().min(0).max(10000).default(500),
  /**
   * Minutes a leased resource may stay offline (live status, from its heartbeats) before its
   * active leases end as `sla_breach`. Default 60.
   */
  SLA_OFFLINE_LIMIT_MINUTES: z.coerce.number().int().min(1).max(10080).default(60),
  /** Key of the HMAC that pseudonymizes buyers on sellers' invoices (required in production). */
  PSEUDONYM_SECRET: z.string().min(1).default(DEV_PSEUDONYM_SECRET),
});

/** Settlement settings, validated from the environment (names the variable on failure). */
export class SettlementConfig {
  readonly lagMs: number;
  readonly graceMs: number;
  readonly schedulerEnabled: boolean;
  readonly intervalMs: number;
  readonly pseudonymSecret: string;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly offlineLimitMs: number;

  constructor(v: Partial<z.input<typeof schema>> = {}) {
    const parsed = schema.safeParse(v);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new Error(`invalid settlement configuration:\n  ${problems.join('\n  ')}`);
    }
    const c = parsed.data;
    this.lagMs = c.SETTLEMENT_LAG_MINUTES * 60_000;
    this.graceMs = c.SETTLEMENT_GRACE_MINUTES * 60_000;
    this.schedulerEnabled = c.SETTLEMENT_SCHEDULER === 'on';
    this.intervalMs = c.SETTLEMENT_INTERVAL_SECONDS * 1000;
    this.pseudonymSecret = c.PSEUDONYM_SECRET;
    this.concurrency = c.SETTLEMENT_CONCURRENCY;
    this.batchSize = c.SETTLEMENT_BATCH_SIZE;
    this.offlineLimitMs = c.SLA_OFFLINE_LIMIT_MINUTES * 60_000;
  }

  static fromEnv(env: Record<string, string | undefined>): SettlementConfig {
    const pick = (k: keyof z.input<typeof schema>) => (env[k] === '' ? undefined : env[k]);
    return new SettlementConfig({
      SETTLEMENT_LAG_MINUTES: pick('SETTLEMENT_LAG_MINUTES'),
      SETTLEMENT_GRACE_MINUTES: pick('SETTLEMENT_GRACE_MINUTES'),
      SETTLEMENT_SCHEDULER: pick('SETTLEMENT_SCHEDULER') as 'on' | 'off' | undefined,
      SETTLEMENT_INTERVAL_SECONDS: pick('SETTLEMENT_INTERVAL_SECONDS'),
      PSEUDONYM_SECRET: pseudonymSecretFrom(pick('PSEUDONYM_SECRET'), env.NODE_ENV),
      SETTLEMENT_CONCURRENCY: pick('SETTLEMENT_CONCURRENCY'),
      SETTLEMENT_BATCH_SIZE: pick('SETTLEMENT_BATCH_SIZE'),
      SLA_OFFLINE_LIMIT_MINUTES: pick('SLA_OFFLINE_LIMIT_MINUTES'),
    });
  }
}
