import { createHash } from 'node:crypto';
import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  applyDecorators,
  UseInterceptors,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import { canonicalJson } from '@suanli/crypto';
import { IdempotencyKeyEntity } from '../database/entities.js';
import { DomainError } from './errors.js';
import type { Principal } from '../auth/auth.decorators.js';

const IDEMPOTENT = 'suanli:idempotent';

/**
 * A POST that creates or moves money must carry an Idempotency-Key: the first answer is
 * stored and every retry with the same key and body gets it again; the same key with
 * another body is refused.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(this.run(ctx, next));
  }

  private async run(ctx: ExecutionContext, next: CallHandler): Promise<unknown> {
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const key = req.header('idempotency-key');
    if (!key || !/^[\w.:-]{8,128}$/.test(key)) {
      throw new DomainError(
        'validation_failed',
        'an Idempotency-Key header (8-128 characters) is required',
        400,
        {
          header: 'Idempotency-Key',
        },
      );
    }
    const scope = `${req.principal?.orgId ?? 'anonymous'} ${req.method} ${req.route?.path ?? req.path}`;
    const requestHash = createHash('sha256')
      .update(canonicalJson({ params: req.params ?? {}, body: req.body ?? null }))
      .digest('hex');
    const repo = this.db.getRepository(IdempotencyKeyEntity);
    const inserted = await repo
      .createQueryBuilder()
      .insert()
      .values({ scope, key, requestHash, statusCode: null })
      .orIgnore()
      .returning(['key'])
      .execute();
    if (inserted.raw.length === 0) {
      const prior = await repo.findOneByOrFail({ scope, key });
      if (prior.requestHash !== requestHash) {
        throw new DomainError(
          'idempotency_conflict',
          'this Idempotency-Key was used with another request',
          422,
        );
      }
      if (prior.statusCode === null) {
        throw new DomainError(
          'conflict',
          'a request with this Idempotency-Key is still in progress',
          409,
        );
      }
      res.status(prior.statusCode);
      res.setHeader('Idempotent-Replayed', 'true');
      return prior.responseBody;
    }
    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: null });
      await repo.update(
        { scope, key },
        { statusCode: res.statusCode, responseBody: body as object },
      );
      return body;
    } catch (err) {
      // A failed attempt leaves nothing behind: the client may retry with the same key.
      await repo.delete({ scope, key });
      throw err;
    }
  }
}

export const Idempotent = () =>
  applyDecorators(SetMetadata(IDEMPOTENT, true), UseInterceptors(IdempotencyInterceptor));
