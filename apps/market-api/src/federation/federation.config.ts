import { z } from 'zod';

const schema = z.object({
  /** The national platform's base URL; set on a member platform (regional, industry). */
  FEDERATION_NATIONAL_URL: z.string().url().optional(),
  FEDERATION_NATIONAL_CODE: z
    .string()
    .regex(/^\d{2,4}\.N[0-9A-Z]{2}$/, 'must be a national platform code like 86.N00')
    .default('86.N00'),
  /** RFC 7638 thumbprints of the national signing keys a member trusts (pinned), comma-separated. */
  FEDERATION_NATIONAL_PINS: z.string().optional(),
  /** This platform's display name and public base URL in the directory. */
  FEDERATION_NAME: z.string().min(1).max(200).optional(),
  FEDERATION_PUBLIC_URL: z.string().url().optional(),
  /** Lifetime of a directory the national platform signs. */
  FEDERATION_DIRECTORY_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(30 * 86_400)
    .default(3600),
  /** A member fetches the directory (and joins, while it is not listed) at least this often. */
  FEDERATION_REFRESH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(30),
  /** A forwarded resolution is fresh this long, then served `stale` while the owner is down. */
  FEDERATION_RESOLUTION_FRESH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  FEDERATION_RESOLUTION_STALE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  /** A platform sends the national platform its status report this often. */
  FEDERATION_REPORT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** The national platform marks a platform that has not reported for this long as stale. */
  FEDERATION_REPORT_STALE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(900),
  /** Timeout of one platform-to-platform call. */
  FEDERATION_CALL_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
});

/** Federation settings (docs/federation.md), validated from the environment. */
export class FederationConfig {
  readonly nationalUrl: string | undefined;
  readonly nationalCode: string;
  readonly pins: string[];
  readonly name: string | undefined;
  readonly publicUrl: string | undefined;
  readonly directoryTtlSeconds: number;
  readonly refreshMs: number;
  readonly callTimeoutMs: number;
  readonly resolutionCache: { freshMs: number; staleMs: number };
  readonly reportMs: number;
  readonly reportStaleMs: number;

  constructor(env: Record<string, string | undefined>) {
    const pick = (k: keyof z.infer<typeof schema>) => (env[k] === '' ? undefined : env[k]);
    const parsed = schema.safeParse(
      Object.fromEntries(Object.keys(schema.shape).map((k) => [k, pick(k as never)])),
    );
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new Error(`invalid federation configuration:\n  ${problems.join('\n  ')}`);
    }
    const v = parsed.data;
    this.nationalUrl = v.FEDERATION_NATIONAL_URL?.replace(/\/$/, '');
    this.nationalCode = v.FEDERATION_NATIONAL_CODE;
    this.pins = (v.FEDERATION_NATIONAL_PINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (this.nationalUrl && this.pins.length === 0) {
      throw new Error(
        'invalid federation configuration:\n  FEDERATION_NATIONAL_PINS: required with FEDERATION_NATIONAL_URL',
      );
    }
    this.name = v.FEDERATION_NAME;
    this.publicUrl = v.FEDERATION_PUBLIC_URL?.replace(/\/$/, '');
    this.directoryTtlSeconds = v.FEDERATION_DIRECTORY_TTL_SECONDS;
    this.refreshMs = v.FEDERATION_REFRESH_SECONDS * 1000;
    this.callTimeoutMs = v.FEDERATION_CALL_TIMEOUT_MS;
    this.reportMs = v.FEDERATION_REPORT_SECONDS * 1000;
    // never stale before a report could have arrived
    this.reportStaleMs =
      Math.max(v.FEDERATION_REPORT_STALE_SECONDS, v.FEDERATION_REPORT_SECONDS) * 1000;
    this.resolutionCache = {
      freshMs: v.FEDERATION_RESOLUTION_FRESH_SECONDS * 1000,
      staleMs:
        Math.max(v.FEDERATION_RESOLUTION_STALE_SECONDS, v.FEDERATION_RESOLUTION_FRESH_SECONDS) *
        1000,
    };
  }
}
