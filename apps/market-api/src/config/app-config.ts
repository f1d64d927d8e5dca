import { z } from 'zod';
import { emailIndexKeyFrom, masterKeysFrom, type MasterKey } from './secret-keys.js';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().url(),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:19092'),
  PLATFORM_CODE: z
    .string()
    .regex(/^\d{2,4}\.[NRI][0-9A-Z]{2}$/, 'must look like 86.N00')
    .default('86.N00'),
  /** Private Ed25519 JWK (JSON) the platform signs tokens and checkpoints with. */
  PLATFORM_SIGNING_JWK: z.string().min(1),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 24 * 3600),
  TAKE_RATE: z
    .string()
    .regex(/^0(\.\d+)?$/, 'must be a decimal fraction such as 0.05')
    .default('0.05'),
  PUBLIC_URL: z.string().url().optional(),
  /** `id:base64(32 bytes)`, comma-separated, current first: wrap organizations' data keys. */
  PRIVACY_MASTER_KEYS: z.string().optional(),
  /** Key of the login e-mail's blind index (HMAC); required in production. */
  EMAIL_INDEX_KEY: z.string().optional(),
  /** Public JWKs (JSON array) of retired platform signing keys: kept in the JWKS after a rotation. */
  PLATFORM_RETIRED_JWKS: z.string().optional(),
  NODE_ENV: z.string().optional(),
  /** Browser origins allowed by CORS (the storefront's), comma-separated. */
  CORS_ORIGINS: z.string().default('http://localhost:3000,http://127.0.0.1:3000'),
  /** Express `trust proxy` (e.g. 1 behind one proxy): where the client address comes from. */
  TRUST_PROXY: z.string().default(''),
  /** Largest JSON body accepted (413 above). */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/, 'must look like 1mb')
    .default('1mb'),
  /** Token buckets: requests per second and burst, per address, per API key, per address on /v1/auth. */
  RATE_LIMIT_IP_PER_SECOND: z.coerce.number().positive().default(200),
  RATE_LIMIT_IP_BURST: z.coerce.number().int().positive().default(2000),
  RATE_LIMIT_API_KEY_PER_SECOND: z.coerce.number().positive().default(100),
  RATE_LIMIT_API_KEY_BURST: z.coerce.number().int().positive().default(1000),
  RATE_LIMIT_AUTH_PER_SECOND: z.coerce.number().positive().default(5),
  RATE_LIMIT_AUTH_BURST: z.coerce.number().int().positive().default(300),
  /**
   * Bearer token Prometheus sends to `GET /metrics`; unset: no `/metrics` (404). Required by
   * ops/docker-compose.prod.yml. docs/operations.md, "Metrics".
   */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Where the buckets live: `postgres` (shared by every instance) or `memory` (this process). */
  RATE_LIMIT_STORE: z.enum(['postgres', 'memory']).default('postgres'),
  /** How long a request waits for the shared buckets before per-process ones decide. */
  RATE_LIMIT_STORE_TIMEOUT_MS: z.coerce.number().int().positive().default(250),
});

export type AppConfigValues = z.infer<typeof schema>;

/** Validated configuration: the process refuses to start on a bad value, naming it. */
export class AppConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly kafkaBrokers: string[];
  readonly platformCode: string;
  readonly platformSigningJwk: string;
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly takeRate: string;
  /** Master keys wrapping per-organization data keys (current first); dev default outside production. */
  readonly privacyMasterKeys: MasterKey[];
  /** Key of the blind index log-in finds a user's e-mail by (HMAC-SHA256). */
  readonly emailIndexKey: string;
  readonly platformRetiredJwks: string | undefined;
  readonly publicUrl: string | undefined;
  readonly corsOrigins: string[];
  readonly trustProxy: string | number | boolean;
  readonly bodyLimit: string;
  readonly rateLimits: {
    ip: { perSecond: number; burst: number };
    apiKey: { perSecond: number; burst: number };
    auth: { perSecond: number; burst: number };
  };
  readonly rateLimitStore: 'postgres' | 'memory';
  readonly rateLimitStoreTimeoutMs: number;
  /** The scrape token of `GET /metrics`; undefined: the route answers 404. */
  readonly metricsToken: string | undefined;

  constructor(v: AppConfigValues) {
    this.port = v.PORT;
    this.host = v.HOST;
    this.databaseUrl = v.DATABASE_URL;
    this.kafkaBrokers = v.KAFKA_BROKERS.split(',');
    this.platformCode = v.PLATFORM_CODE;
    this.platformSigningJwk = v.PLATFORM_SIGNING_JWK;
    this.accessTokenTtl = v.ACCESS_TOKEN_TTL_SECONDS;
    this.refreshTokenTtl = v.REFRESH_TOKEN_TTL_SECONDS;
    this.takeRate = v.TAKE_RATE;
    this.privacyMasterKeys = masterKeysFrom(v.PRIVACY_MASTER_KEYS, v.NODE_ENV);
    this.emailIndexKey = emailIndexKeyFrom(v.EMAIL_INDEX_KEY, v.NODE_ENV);
    this.platformRetiredJwks = v.PLATFORM_RETIRED_JWKS;
    this.publicUrl = v.PUBLIC_URL;
    this.corsOrigins = v.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
    const tp = v.TRUST_PROXY.trim();
    this.trustProxy = tp === '' ? false : /^\d+$/.test(tp) ? Number(tp) : tp === 'true' ? true : tp;
    this.bodyLimit = v.BODY_LIMIT;
    this.rateLimits = {
      ip: { perSecond: v.RATE_LIMIT_IP_PER_SECOND, burst: v.RATE_LIMIT_IP_BURST },
      apiKey: { perSecond: v.RATE_LIMIT_API_KEY_PER_SECOND, burst: v.RATE_LIMIT_API_KEY_BURST },
      auth: { perSecond: v.RATE_LIMIT_AUTH_PER_SECOND, burst: v.RATE_LIMIT_AUTH_BURST },
    };
    this.rateLimitStore = v.RATE_LIMIT_STORE;
    this.rateLimitStoreTimeoutMs = v.RATE_LIMIT_STORE_TIMEOUT_MS;
    this.metricsToken = v.METRICS_TOKEN;
  }

  static fromEnv(env: Record<string, string | undefined>): AppConfig {
    const parsed = schema.safeParse(env);
    if (!parsed.success) {
      // Names the variable and the rule, never the value (it may be a secret).
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
    }
    return new AppConfig(parsed.data);
  }
}
