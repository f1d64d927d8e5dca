// Deprecating an operation of /v1 (docs/api-versioning.md): `@Deprecated({...})` on a handler
// marks it `deprecated` in the OpenAPI document and makes every answer of it carry
// `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Link` headers. They are set before the
// handler runs, so its error answers (validation, domain errors) carry them too; an answer of
// the guards (401, 403, 429) does not.
import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import type { Observable } from 'rxjs';

export const DEPRECATED_KEY = 'suanli:deprecated';

export interface DeprecationNotice {
  /** The day the deprecation was announced (UTC, `YYYY-MM-DD`). */
  since: string;
  /** The first day the operation may be gone (UTC, `YYYY-MM-DD`); at least 6 months after `since`. */
  sunset: string;
  /** The operation that replaces it, as `METHOD /v1/path`, when there is one. */
  successor?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MIN_NOTICE_DAYS = 182;

/** Checks a notice against the policy (docs/api-versioning.md); throws what is wrong. */
export function checkNotice(n: DeprecationNotice): DeprecationNotice {
  if (!DAY.test(n.since) || Number.isNaN(Date.parse(n.since))) {
    throw new Error(`deprecation since ${n.since}: expected YYYY-MM-DD`);
  }
  if (!DAY.test(n.sunset) || Number.isNaN(Date.parse(n.sunset))) {
    throw new Error(`deprecation sunset ${n.sunset}: expected YYYY-MM-DD`);
  }
  const days = (Date.parse(n.sunset) - Date.parse(n.since)) / 86_400_000;
  if (days < MIN_NOTICE_DAYS) {
    throw new Error(`deprecation sunset ${n.sunset}: at least ${MIN_NOTICE_DAYS} days after since`);
  }
  if (n.successor !== undefined && !/^(GET|POST|PUT|PATCH|DELETE) \/v\d+\//.test(n.successor)) {
    throw new Error(`deprecation successor ${n.successor}: expected "METHOD /v1/…"`);
  }
  return n;
}

/** Marks a handler deprecated (the notice is checked when the class is loaded). */
export const Deprecated = (notice: DeprecationNotice) =>
  SetMetadata(DEPRECATED_KEY, checkNotice(notice));

/** The headers a deprecated operation answers with. */
export function deprecationHeaders(n: DeprecationNotice): Record<string, string> {
  // The API reference marks the operation deprecated and names its successor.
  const links = ['</docs>; rel="deprecation"; type="text/html"'];
  if (n.successor) {
    const path = n.successor.split(' ')[1];
    links.push(`<${path}>; rel="successor-version"`);
  }
  return {
    // RFC 9745: a Structured Field Date, seconds since the epoch.
    Deprecation: `@${Date.parse(`${n.since}T00:00:00Z`) / 1000}`,
    // RFC 8594: an HTTP-date.
    Sunset: new Date(`${n.sunset}T00:00:00Z`).toUTCString(),
    Link: links.join(', '),
  };
}

@Injectable()
export class DeprecationInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const notice = this.reflector.get<DeprecationNotice | undefined>(
      DEPRECATED_KEY,
      ctx.getHandler(),
    );
    if (notice && ctx.getType() === 'http') {
      const res = ctx.switchToHttp().getResponse<Response>();
      for (const [name, value] of Object.entries(deprecationHeaders(notice))) {
        res.setHeader(name, value);
      }
    }
    return next.handle();
  }
}
