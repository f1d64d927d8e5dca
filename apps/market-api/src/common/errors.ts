import type { ErrorCode } from '@suanli/contracts';

/** A failure the client can act on: mapped once, by the global filter, to the error envelope. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, details?: Record<string, unknown>): DomainError =>
  new DomainError('not_found', `${what} not found`, 404, details);

export const invalidState = (message: string, details?: Record<string, unknown>): DomainError =>
  new DomainError('invalid_state', message, 409, details);

export const forbidden = (message = 'this role may not do that'): DomainError =>
  new DomainError('forbidden', message, 403);

export const unauthenticated = (message = 'a valid access token is required'): DomainError =>
  new DomainError('unauthenticated', message, 401);

/** A 400 naming the one field that was wrong (the shape `parseInput` reports issues in). */
export const invalidField = (path: string, message: string): DomainError =>
  new DomainError('validation_failed', 'the request is not valid', 400, {
    issues: [{ path, message }],
  });
