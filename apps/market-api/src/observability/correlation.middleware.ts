import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { withCorrelation } from './correlation-context.js';

/** Every request gets a correlation id (the caller's X-Correlation-Id when it is sane). */
export function correlationMiddleware(
  req: Request & { correlationId?: string },
  res: Response,
  next: NextFunction,
): void {
  const given = req.header('x-correlation-id');
  const id = given && /^[\w.-]{8,128}$/.test(given) ? given : randomUUID();
  req.correlationId = id;
  res.setHeader('X-Correlation-Id', id);
  // Logs, the lease-event outbox and Kafka headers pick it up from the async context.
  withCorrelation(id, next);
}
