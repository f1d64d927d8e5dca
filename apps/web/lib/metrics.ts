import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { bearerTokenMatches } from '@suanli/crypto';

/**
 * The storefront's Prometheus metrics (prom-client, like market-api), served by
 * `app/metrics/route.ts`. Next bundles the proxy, the instrumentation hook and each route
 * separately, so the registry is one object per process kept on `globalThis`.
 */

export interface WebMetrics {
  registry: Registry;
  /** The storefront's own requests (instrumentation.ts), by route pattern, method and status. */
  http: Histogram<'method' | 'route' | 'status'>;
  /** Market API calls from the server, by OpenAPI path, method and status (`network`: no answer). */
  upstream: Histogram<'method' | 'route' | 'status'>;
  /** Market API calls that failed: no answer (`network`) or a 5xx (`server`). */
  upstreamErrors: Counter<'method' | 'route' | 'reason'>;
  /** proxy.ts's refresh-token exchanges by outcome (`session`, `rejected`, `unavailable`). */
  sessionRefreshes: Counter<'outcome'>;
}

const KEY = Symbol.for('suanli.web.metrics');
const holder = globalThis as typeof globalThis & { [KEY]?: WebMetrics };

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function create(): WebMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'suanli_web_' });
  return {
    registry,
    http: new Histogram({
      name: 'suanli_web_http_request_duration_seconds',
      help: 'Storefront HTTP request latency by route (the app route pattern), method and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: BUCKETS,
      registers: [registry],
    }),
    upstream: new Histogram({
      name: 'suanli_web_upstream_request_duration_seconds',
      help: 'Market API calls from the storefront by API route, method and status (network: none).',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: BUCKETS,
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: 'suanli_web_upstream_errors_total',
      help: 'Market API calls that failed: no answer (network, timeout) or a 5xx (server).',
      labelNames: ['method', 'route', 'reason'] as const,
      registers: [registry],
    }),
    sessionRefreshes: new Counter({
      name: 'suanli_web_session_refreshes_total',
      help: 'Refresh-token exchanges by outcome (session, rejected, unavailable).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export function webMetrics(): WebMetrics {
  holder[KEY] ??= create();
  return holder[KEY];
}

/** Records one market API call (`status` 0: no answer) that started at `startedAt` (ms). */
export function observeUpstream(
  method: string,
  route: string,
  status: number,
  startedAt: number,
): void {
  const m = webMetrics();
  const seconds = (performance.now() - startedAt) / 1000;
  m.upstream.observe({ method, route, status: status === 0 ? 'network' : String(status) }, seconds);
  if (status === 0) m.upstreamErrors.inc({ method, route, reason: 'network' });
  else if (status >= 500) m.upstreamErrors.inc({ method, route, reason: 'server' });
}

/**
 * `/metrics` is for Prometheus only: it answers when WEB_METRICS_TOKEN is set and the request
 * carries it as `Authorization: Bearer …` (the same check as market-api's and the ingest's).
 */
export function metricsAuthorized(authorization: string | null): boolean | 'off' {
  const token = process.env.WEB_METRICS_TOKEN ?? '';
  if (token === '') return 'off';
  return bearerTokenMatches(authorization, token);
}

// Route patterns of the app (from the build's manifest), so labels stay few: `/offers/[id]`,
// never one label per offer id.
interface Pattern {
  route: string;
  regex: RegExp;
  dynamic: number;
}
function compile(route: string): Pattern {
  let dynamic = 0;
  const source = route
    .split('/')
    .map((segment) => {
      if (/^\[\[\.\.\..+\]\]$/.test(segment)) return ((dynamic += 3), '(?:/.*)?');
      if (/^\[\.\.\..+\]$/.test(segment)) return ((dynamic += 2), '/.+');
      if (/^\[.+\]$/.test(segment)) return ((dynamic += 1), '/[^/]+');
      return segment === '' ? '' : `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    })
    .join('');
  return { route, regex: new RegExp(`^${source || '/'}$`), dynamic };
}

function manifestRoutes(): string[] {
  try {
    const manifest = JSON.parse(
      readFileSync(join(process.cwd(), '.next', 'app-path-routes-manifest.json'), 'utf8'),
    ) as Record<string, string>;
    return [...new Set(Object.values(manifest))];
  } catch {
    return []; // not built (dev server): every app path is "other"
  }
}

/** A function from a request path to its label among `routes` (app route patterns). */
export function routeMatcher(routes: string[]): (url: string) => string {
  const patterns = routes.map(compile).sort((a, b) => a.dynamic - b.dynamic);
  return (url) => {
    const path = url.split('?')[0].split('#')[0] || '/';
    if (path.startsWith('/_next/')) return path.split('/').slice(0, 3).join('/');
    return patterns.find((p) => p.regex.test(path))?.route ?? 'other';
  };
}

let matcher: ((url: string) => string) | null = null;

/** The app route a path belongs to, `/_next/static` etc. for Next's own, `other` for the rest. */
export function routeOf(url: string): string {
  matcher ??= routeMatcher(manifestRoutes());
  return matcher(url);
}
