import type { z } from 'zod';
import { DomainError } from './errors.js';

/** Parses a request body or query with a contract schema; a failure is a 400 naming each field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  throw new DomainError('validation_failed', 'the request is not valid', 400, {
    issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}
