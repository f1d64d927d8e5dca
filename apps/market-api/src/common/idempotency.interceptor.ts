import { AsyncLocalStorage } from 'node:async_hooks';
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
import {
  DataSource,
  EventSubscriber,
  type EntitySubscriberInterface,
  type TransactionCommitEvent,
} from 'typeorm';
import { canonicalJson } from '@suanli/crypto';
import { IdempotencyKeyEntity } from '../database/entities.js';
import { DomainError } from './errors.js';
import type { Principal } from '../auth/auth.decorators.js';

const IDEMPOTENT = 'suanli:idempotent';

/** The attempt in progress: its key and its lease token (the row's created_at, as text). */
interface Attempt {
  scope: string;
  key: string;
  token: string;
  done: boolean;
}
const attempts = new AsyncLocalStorage<Attempt>();

/** A stored status meaning: the attempt's effects committed, its answer is not stored yet. */
const EFFECT_COMMITTED = 0;

/**
 * Marks, inside every transaction an idempotent request commits, that its effects are in: the
 * mark commits atomically with them. It also fences: an attempt whose key was taken over (it
 * ran longer than IDEMPOTENCY_STALE_SECONDS, e.g. its instance hung) cannot commit any more.
 * Registered as a TypeORM subscriber (app.module.ts); TypeORM instantiates only classes marked
 * with `@EventSubscriber()`: without it the class is silently dropped and nothing is marked.
 */
@EventSubscriber()
export class IdempotencyCommitSubscriber implements EntitySubscriberInterface {
  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const a = attempts.getStore();
    if (!a || a.done || !event.queryRunner) return;
    const r = (await event.queryRunner.query(
      `UPDATE idempotency_keys SET status_code = ${EFFECT_COMMITTED}
        WHERE scope = $1 AND key = $2 AND (status_code IS NULL OR status_code = ${EFFECT_COMMITTED})
          AND created_at::text = $3`,
      [a.scope, a.key, a.token],
      true,
    )) as { affected?: number };
    if (!r.affected) {
      throw new Error('this Idempotency-Key was taken over by a retry; not committing');
    }
  }
}

/**
 * A POST that creates or moves money must carry an Idempotency-Key: the first answer is
 * stored and every retry with the same key and body gets it again; the same key with
 * another body is refused.
 *
 * Crash safety: an attempt whose instance died (or lost its database) leaves its key row
 * behind, unanswered. A retry after IDEMPOTENCY_STALE_SECONDS (30) takes it over and runs the
 * request again only if none of the dead attempt's transactions committed (the commit mark
 * above); otherwise it answers 409 (`details.idempotency: outcome_unknown`), never running it twice.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly staleSeconds = Number(process.env.IDEMPOTENCY_STALE_SECONDS ?? '30') || 30;

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
    const inserted = await this.db.query<{ token: string }[]>(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status_code)
       VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING RETURNING created_at::text AS token`,
      [scope, key, requestHash],
    );
    let token = inserted[0]?.token;
    if (token === undefined) {
      const prior = await repo.findOneByOrFail({ scope, key });
      if (prior.requestHash !== requestHash) {
        throw new DomainError(
          'idempotency_conflict',
          'this Idempotency-Key was used with another request',
          422,
        );
      }
      if (prior.statusCode === EFFECT_COMMITTED) {
        throw new DomainError(
          'conflict',
          'the first request with this Idempotency-Key took effect but its answer was lost',
          409,
          { idempotency: 'outcome_unknown' },
        );
      }
      if (prior.statusCode === null) {
        // Unanswered: still running, or its instance died. Stale → take it over (fencing the
        // old attempt, see IdempotencyCommitSubscriber).
        // (TypeORM answers an UPDATE with [rows, affected].)
        const [taken] = await this.db.query<[{ token: string }[], number]>(
          `UPDATE idempotency_keys SET created_at = clock_timestamp()
            WHERE scope = $1 AND key = $2 AND status_code IS NULL
              AND created_at < now() - make_interval(secs => $3)
            RETURNING created_at::text AS token`,
          [scope, key, this.staleSeconds],
        );
        token = taken[0]?.token;
        if (token === undefined) {
          throw new DomainError(
            'conflict',
            'a request with this Idempotency-Key is still in progress',
            409,
          );
        }
      } else {
        res.status(prior.statusCode);
        res.setHeader('Idempotent-Replayed', 'true');
        return prior.responseBody;
      }
    }
    const attempt: Attempt = { scope, key, token, done: false };
    let body: unknown;
    try {
      body = await attempts.run(attempt, () =>
        lastValueFrom(next.handle(), { defaultValue: null }),
      );
    } catch (err) {
      attempt.done = true;
      // A failed attempt that committed nothing leaves nothing behind: the client may retry
      // with the same key. One that committed effects keeps its mark, so a retry is answered
      // `outcome_unknown` instead of running them twice.
      await this.db
        .query(
          `DELETE FROM idempotency_keys
            WHERE scope = $1 AND key = $2 AND created_at::text = $3 AND status_code IS NULL`,
          [scope, key, token],
        )
        .catch(() => undefined);
      throw err;
    }
    attempt.done = true;
    // The effects are in; store the answer. A connection lost right now (a PostgreSQL restart
    // or failover) is retried for a while: the pool reconnects, and a lost answer would turn
    // the client's retry into `outcome_unknown`.
    for (let i = 0; ; i++) {
      try {
        await this.db.query(
          `UPDATE idempotency_keys SET status_code = $4, response_body = $5
            WHERE scope = $1 AND key = $2 AND created_at::text = $3`,
          [scope, key, token, res.statusCode, JSON.stringify(body)],
        );
        return body;
      } catch (err) {
        if (i >= ANSWER_WRITE_ATTEMPTS - 1) throw err;
        await new Promise((r) => setTimeout(r, 250 * 2 ** Math.min(i, 3)));
      }
    }
  }
}

/** Attempts at storing an answer (about 10 s in all), see `IdempotencyInterceptor.run`. */
const ANSWER_WRITE_ATTEMPTS = 8;

export const Idempotent = () =>
  applyDecorators(SetMetadata(IDEMPOTENT, true), UseInterceptors(IdempotencyInterceptor));
