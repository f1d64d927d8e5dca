import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ErrorEnvelope } from '@suanli/contracts';
import { DomainError } from './errors.js';

const HTTP_CODES: Record<number, ErrorEnvelope['error']['code']> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'validation_failed',
  415: 'validation_failed',
  429: 'rate_limited',
};

/** Maps every error, once, to the stable envelope. Unknown errors are logged and become 500. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly log = new Logger('errors');

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request & { correlationId?: string }>();
    const res = http.getResponse<Response>();
    const correlationId = req.correlationId ?? 'unknown';
    let status = 500;
    let body: ErrorEnvelope['error'] = { code: 'internal', message: 'internal error' };
    if (err instanceof DomainError) {
      status = err.status;
      body = {
        code: err.code,
        message: err.message,
        ...(err.details ? { details: err.details } : {}),
      };
    } else if (err instanceof HttpException) {
      status = err.getStatus();
      const r = err.getResponse();
      const message =
        typeof r === 'string' ? r : ((r as { message?: unknown }).message ?? err.message);
      body = {
        code: HTTP_CODES[status] ?? (status < 500 ? 'validation_failed' : 'internal'),
        message: Array.isArray(message) ? message.join('; ') : String(message),
      };
    } else if (isBodyParserError(err)) {
      status = err.status;
      body = { code: 'validation_failed', message: `malformed request body: ${err.type}` };
    } else {
      this.log.error(
        `${correlationId} ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`,
      );
    }
    const retryAfter = body.details?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') {
      res.setHeader('Retry-After', String(retryAfter));
    }
    res.status(status).json({ error: body, correlationId } satisfies ErrorEnvelope);
  }
}

function isBodyParserError(err: unknown): err is { status: number; type: string } {
  const e = err as { status?: unknown; type?: unknown };
  return (
    typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.type === 'string'
  );
}
