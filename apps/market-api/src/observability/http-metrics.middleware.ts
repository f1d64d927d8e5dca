import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from './metrics.js';

/** The route pattern the request matched (`/v1/leases/:id`), never the raw URL (cardinality). */
export function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return `${req.baseUrl ?? ''}${route.path}`;
  return 'unmatched';
}

/** Observes every request's latency, by method, route pattern and status, when it finishes. */
export function httpMetricsMiddleware(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = routeOf(req);
      if (route === '/metrics') return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpDuration.observe(
        { method: req.method, route, status: String(res.statusCode) },
        seconds,
      );
    });
    next();
  };
}
