import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../common/errors.js';

export const CLOUDEVENTS_STRUCTURED = 'application/cloudevents+json';
export const CLOUDEVENTS_BATCH = 'application/cloudevents-batch+json';
const LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Reads a CloudEvents JSON body (structured or batch mode; the app's JSON parser only takes
 * `application/json`) into `req.cloudEvents`.
 */
export function cloudEventsBody(
  req: Request & { cloudEvents?: unknown },
  _res: Response,
  next: NextFunction,
): void {
  const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== CLOUDEVENTS_STRUCTURED && type !== CLOUDEVENTS_BATCH) return next();
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > LIMIT_BYTES && !failed) {
      failed = true;
      next(new DomainError('validation_failed', `the body exceeds ${LIMIT_BYTES} bytes`, 413));
      return;
    }
    if (!failed) chunks.push(c);
  });
  req.on('end', () => {
    if (failed) return;
    try {
      req.cloudEvents = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      next();
    } catch {
      next(new DomainError('validation_failed', 'the body is not valid JSON', 400));
    }
  });
  req.on('error', (err) => {
    if (!failed) next(err);
  });
}
