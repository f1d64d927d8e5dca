import { z } from 'zod';

const schema = z.object({
  /** `off` disables the in-process recompute scheduler (tests recompute by hand). */
  CREDIBILITY_SCHEDULER: z.enum(['on', 'off']).default('on'),
  /** Seconds between full recomputations (default nightly: 86400). */
  CREDIBILITY_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(86400),
  /** Seconds between checks for resources with new lease or telemetry evidence (default 300). */
  CREDIBILITY_STALE_SECONDS: z.coerce.number().int().min(5).max(86400).default(300),
});

/** Credibility settings, validated from the environment (names the variable on failure). */
export class CredibilityConfig {
  readonly schedulerEnabled: boolean;
  readonly intervalMs: number;
  readonly staleMs: number;

  constructor(v: Partial<z.input<typeof schema>> = {}) {
    const parsed = schema.safeParse(v);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new Error(`invalid credibility configuration:\n  ${problems.join('\n  ')}`);
    }
    this.schedulerEnabled = parsed.data.CREDIBILITY_SCHEDULER === 'on';
    this.intervalMs = parsed.data.CREDIBILITY_INTERVAL_SECONDS * 1000;
    this.staleMs = parsed.data.CREDIBILITY_STALE_SECONDS * 1000;
  }

  static fromEnv(env: Record<string, string | undefined>): CredibilityConfig {
    const pick = (k: keyof z.input<typeof schema>) => (env[k] === '' ? undefined : env[k]);
    return new CredibilityConfig({
      CREDIBILITY_SCHEDULER: pick('CREDIBILITY_SCHEDULER') as 'on' | 'off' | undefined,
      CREDIBILITY_INTERVAL_SECONDS: pick('CREDIBILITY_INTERVAL_SECONDS'),
      CREDIBILITY_STALE_SECONDS: pick('CREDIBILITY_STALE_SECONDS'),
    });
  }
}
