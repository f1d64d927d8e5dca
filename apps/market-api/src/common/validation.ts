import type { z } from 'zod';
import { DomainError } from './errors.js';
import { strictInput } from './strict-input.js';

/**
 * Parses a request body or query with a contract schema, strictly: an unknown field is refused
 * like a wrong one. A failure is a 400 naming each field.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  let r: z.ZodSafeParseResult<unknown>;
  try {
    r = strictInput(schema).safeParse(input ?? {});
  } catch {
    // a refinement that throws on input an earlier check already refused: still a 400
    throw new DomainError('validation_failed', 'the request is not valid', 400);
  }
  if (r.success) return r.data as z.infer<S>;
  throw new DomainError('validation_failed', 'the request is not valid', 400, {
    issues: r.error.issues.map((i) => ({
      path: i.path.join('.'),
      message:
        i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
    })),
  });
}
