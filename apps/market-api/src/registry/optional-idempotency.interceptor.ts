import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';

/**
 * Resource registration: idempotent under an `Idempotency-Key` when the client sends one (the
 * shared interceptor: replay, or 409 for the same key with another body). Without a key the
 * request goes through, and the registry refuses a duplicate of an existing resource's facts.
 */
@Injectable()
export class OptionalIdempotencyInterceptor implements NestInterceptor {
  private readonly inner: IdempotencyInterceptor;

  constructor(@InjectDataSource() db: DataSource) {
    this.inner = new IdempotencyInterceptor(db, new Reflector());
  }

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (req.header('idempotency-key') === undefined) return next.handle();
    return this.inner.intercept(ctx, next);
  }
}
