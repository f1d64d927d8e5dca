// The CloudEvents HTTP protocol binding (1.0) of `POST /v1/usage/events`: binary, structured
// and batched content modes in, plain event objects out. The binary mode's `ce-*` headers are
// decoded by the official SDK (`cloudevents`), the same one collectors send with.
import type { NextFunction, Request, Response } from 'express';
import { CloudEvent, HTTP } from 'cloudevents';
import { DomainError } from '../common/errors.js';
import { inputProblem } from '../security/input-guard.js';

export const CLOUDEVENTS_STRUCTURED = 'application/cloudevents+json';
export const CLOUDEVENTS_BATCH = 'application/cloudevents-batch+json';
/** Binary mode: the event's data is the body, its attributes are `ce-*` headers. */
export const CLOUDEVENTS_BINARY_DATA = 'application/json';
const LIMIT_BYTES = 4 * 1024 * 1024;

export type CloudEventsMode = 'binary' | 'structured' | 'batch';

/** The request's media type, lower-cased, without parameters. */
export function mediaType(req: Request): string {
  return (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Reads a CloudEvents JSON body (structured or batch mode; the app's JSON parser only takes
 * `application/json`, which is binary mode's) into `req.cloudEvents`.
 */
export function cloudEventsBody(
  req: Request & { cloudEvents?: unknown },
  _res: Response,
  next: NextFunction,
): void {
  const type = mediaType(req);
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
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      next(new DomainError('validation_failed', 'the body is not valid JSON', 400));
      return;
    }
    // The same guard as JSON bodies: no NUL characters, no deep nesting (security/input-guard).
    const problem = inputProblem(parsed, 'body');
    if (problem) {
      next(
        new DomainError('validation_failed', problem.message, 400, {
          field: problem.field,
          reason: problem.reason,
        }),
      );
      return;
    }
    req.cloudEvents = parsed;
    next();
  });
  req.on('error', (err) => {
    if (!failed) next(err);
  });
}

/** The CloudEvents attribute headers binary mode needs (the rest are optional). */
const REQUIRED_BINARY_HEADERS = ['ce-specversion', 'ce-id', 'ce-source', 'ce-type'];

/**
 * The events of a request in any of the three content modes, as plain objects (not validated
 * beyond the binding itself: the usage contract does that). A request in no mode is 415.
 */
export function cloudEventsOf(req: Request & { cloudEvents?: unknown; rawBody?: Buffer }): {
  mode: CloudEventsMode;
  events: unknown[];
} {
  const type = mediaType(req);
  const body = req.cloudEvents;
  if (type === CLOUDEVENTS_BATCH) {
    if (!Array.isArray(body)) {
      throw new DomainError('validation_failed', 'a batch must be a JSON array', 400);
    }
    return { mode: 'batch', events: body };
  }
  if (type === CLOUDEVENTS_STRUCTURED) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new DomainError('validation_failed', 'a structured event must be a JSON object', 400);
    }
    return { mode: 'structured', events: [body] };
  }
  const ceHeaders = Object.keys(req.headers).filter((h) => h.startsWith('ce-'));
  if (type === CLOUDEVENTS_BINARY_DATA && ceHeaders.length > 0) {
    const missing = REQUIRED_BINARY_HEADERS.filter((h) => req.header(h) === undefined);
    if (missing.length > 0) {
      throw new DomainError(
        'validation_failed',
        `binary content mode needs the headers ${missing.join(', ')}`,
        400,
        { missing },
      );
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      // Non-strict: the SDK maps headers to attributes; the usage contract validates after.
      const event = HTTP.toEvent({ headers, body: req.rawBody?.toString('utf8') ?? '' });
      const events = Array.isArray(event) ? event : [event];
      return {
        mode: 'binary',
        events: events.map((e) => (e instanceof CloudEvent ? e.toJSON() : e)),
      };
    } catch (err) {
      throw new DomainError(
        'validation_failed',
        `not a CloudEvent in binary content mode: ${(err as Error).message}`,
        400,
      );
    }
  }
  throw new DomainError(
    'validation_failed',
    `content-type must be ${CLOUDEVENTS_STRUCTURED}, ${CLOUDEVENTS_BATCH}, or ` +
      `${CLOUDEVENTS_BINARY_DATA} with ce-* headers (binary content mode)`,
    415,
  );
}
