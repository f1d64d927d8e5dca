import type { NextFunction, Request, Response } from 'express';
import type { ErrorEnvelope } from '@suanli/contracts';

/**
 * How deep a JSON body or query may nest. The deepest contract (an offer's tiered price rows)
 * is 5 levels; 32 leaves room and stops bodies nested ~2,000 deep, which reached the
 * Idempotency-Key's canonical JSON (recursive) before validation and answered 500 (#18).
 */
export const MAX_INPUT_DEPTH = 32;

export interface InputProblem {
  /** Where: `body.organization.name`, `query.q`, `path`. */
  field: string;
  reason: 'nul_character' | 'too_deep';
  message: string;
}

/**
 * The first thing in parsed input (JSON body, query, CloudEvents) that no route may receive: a
 * NUL character in a string or a key (PostgreSQL text cannot hold it: it was a 500), or nesting
 * deeper than `maxDepth`. Walks iteratively, so its own stack never overflows.
 */
export function inputProblem(
  value: unknown,
  root: string,
  maxDepth = MAX_INPUT_DEPTH,
): InputProblem | null {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) {
        return {
          field: path,
          reason: 'nul_character',
          message: `${path} contains a NUL character`,
        };
      }
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) {
      return {
        field: path,
        reason: 'too_deep',
        message: `${root} is nested deeper than ${maxDepth} levels`,
      };
    }
    const entries = Array.isArray(v)
      ? v.map((x, i) => [String(i), x] as const)
      : Object.entries(v as Record<string, unknown>);
    for (const [k, x] of entries) {
      if (k.includes('\u0000')) {
        return {
          field: path,
          reason: 'nul_character',
          message: `${path} has a field name with a NUL character`,
        };
      }
      stack.push({ v: x, path: `${path}.${k}`, depth: depth + 1 });
    }
  }
  return null;
}

/** The problem with a request's path, query or JSON body, if any (see `inputProblem`). */
export function requestInputProblem(req: {
  path: string;
  query?: unknown;
  body?: unknown;
}): InputProblem | null {
  // Express decodes path parameters later; `%00` is the NUL it would hand a route.
  if (/%00/i.test(req.path) || req.path.includes('\u0000')) {
    return { field: 'path', reason: 'nul_character', message: 'the path contains a NUL character' };
  }
  return inputProblem(req.query, 'query') ?? inputProblem(req.body, 'body');
}

/** Answers 400 `validation_failed` naming the problem, in the error envelope. */
export function refuseInput(req: Request, res: Response, problem: InputProblem): void {
  const correlationId = (req as Request & { correlationId?: string }).correlationId ?? 'unknown';
  res.status(400).json({
    error: {
      code: 'validation_failed',
      message: problem.message,
      details: { field: problem.field, reason: problem.reason },
    },
    correlationId,
  } satisfies ErrorEnvelope);
}

/**
 * Runs after the JSON parser, before any route: refuses input with a NUL character or nested
 * too deep, whatever the route, so that no handler, interceptor or query ever sees it.
 */
export function inputGuard(req: Request, res: Response, next: NextFunction): void {
  const problem = requestInputProblem(req);
  if (problem) {
    refuseInput(req, res, problem);
    return;
  }
  next();
}
