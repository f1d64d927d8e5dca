import { createHash } from 'node:crypto';
import { type INestApplication, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { NextFunction, Request, Response } from 'express';
import type { ErrorEnvelope } from '@suanli/contracts';
import type { AppConfig } from '../config/app-config.js';
import {
  type BucketRequest,
  MemoryRateLimitStore,
  PostgresRateLimitStore,
  type RateLimitStore,
} from './rate-limit-store.js';

/** Paths where guessing is the attack (log-in, sign-up, refresh): their own, tighter bucket. */
const AUTH_PATHS = /^\/v1\/auth\//;

/**
 * Response headers for a JSON API: nothing may be framed, sniffed or run from it. Routes that
 * render HTML (the API reference) set their own Content-Security-Policy.
 */
export function securityHeaders(config: AppConfig) {
  const https = config.publicUrl?.startsWith('https:') ?? false;
  return (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    res.setHeader('Cache-Control', 'no-store');
    if (https || req.secure) {
      res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    }
    next();
  };
}

const tooMany = (req: Request, res: Response, retryAfter: number, who: string): void => {
  const correlationId = (req as Request & { correlationId?: string }).correlationId ?? 'unknown';
  res.setHeader('Retry-After', String(retryAfter));
  res.status(429).json({
    error: {
      code: 'rate_limited',
      message: `too many requests from this ${who}; retry after ${retryAfter} s`,
      details: { retryAfterSeconds: retryAfter },
    },
    correlationId,
  } satisfies ErrorEnvelope);
};

/** The bearer's API key, identified by a hash of its secret (no lookup: also limits bad keys). */
const apiKeyOf = (req: Request): string | undefined => {
  const m = /^Bearer (sk_[\w.~+/=-]+)$/.exec(req.header('authorization') ?? '');
  return m ? createHash('sha256').update(m[1]).digest('base64url').slice(0, 22) : undefined;
};

/** Which limit a bucket applies, for the refusal's message. */
type Who = 'API key' | 'address';

/**
 * Rate limits per API key, per address, and per address on the auth endpoints: one token from
 * each bucket the request falls in, taken at once (one round trip to the shared store). A
 * request refused by one bucket has still spent its tokens in the others.
 */
export function rateLimits(config: AppConfig, store: RateLimitStore) {
  const { ip: ipLimit, apiKey: keyLimit, auth: authLimit } = config.rateLimits;
  return (req: Request, res: Response, next: NextFunction): void => {
    const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const key = apiKeyOf(req);
    const buckets: (BucketRequest & { who: Who })[] = [];
    if (key) buckets.push({ key: `key:${key}`, limit: keyLimit, who: 'API key' });
    buckets.push({ key: `ip:${ip}`, limit: ipLimit, who: 'address' });
    if (req.method === 'POST' && AUTH_PATHS.test(req.path)) {
      buckets.push({ key: `auth:${ip}`, limit: authLimit, who: 'address' });
    }
    store.take(buckets).then(
      (takes) => {
        const refused = takes.findIndex((t) => !t.ok);
        if (refused < 0) return next();
        const retryAfter = Math.max(...takes.map((t) => (t.ok ? 0 : t.retryAfterSeconds)));
        tooMany(req, res, retryAfter, buckets[refused].who);
      },
      (e: unknown) => next(e),
    );
  };
}

/** The store `RATE_LIMIT_STORE` names: PostgreSQL (shared by every instance) or this process. */
export function rateLimitStore(app: INestApplication, config: AppConfig): RateLimitStore {
  if (config.rateLimitStore === 'memory') return new MemoryRateLimitStore();
  const logger = new Logger('RateLimits');
  return new PostgresRateLimitStore(
    app.get(DataSource),
    (m) => logger.warn(m),
    config.rateLimitStoreTimeoutMs,
  );
}

/**
 * Security at the HTTP edge, applied by createApp before any route: CORS for the storefront's
 * origins only, security headers and rate limits. Body size limits are set on the parsers.
 */
export function applyHttpSecurity(app: INestApplication, config: AppConfig): void {
  if (config.trustProxy) {
    (app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set(
      'trust proxy',
      config.trustProxy,
    );
  }
  app.enableCors({
    origin: config.corsOrigins,
    methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-correlation-id'],
    exposedHeaders: ['retry-after', 'x-correlation-id', 'content-disposition'],
    credentials: false,
    maxAge: 600,
  });
  app.use(securityHeaders(config));
  app.use(rateLimits(config, rateLimitStore(app, config)));
}
