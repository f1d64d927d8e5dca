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
import { Reflector } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import {
  DataSource,
  EventSubscriber,
  type EntitySubscriberInterface,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import { canonicalJson } from '@suanli/crypto';
import { IdempotencyKeyEntity } from './idempotency.entities.js';
import { DomainError } from '../common/errors.js';
import type { Principal } from '../auth/auth.decorators.js';

const IDEMPOTENT = 'suanli:idempotent';

/** How a route's retries are answered after a crash, see `Idempotent`. */
export interface IdempotentOptions {
  /**
   * The handler is itself idempotent on its Idempotency-Key: run again, it finds what an
   * earlier attempt committed, finishes it (repeating external calls with the same Stripe
   * idempotency keys, which Stripe answers with the same objects) and answers as that attempt
   * would have. A retry may then take over a key whose attempt committed effects but died
   * before its answer was stored, instead of answering `outcome_unknown`.
   */
  resumable?: boolean;
}

/** The attempt in progress: its key and its lease token (the row's created_at, as text). */
interface Attempt {
  scope: string;
  key: string;
  token: string;
  /** The HTTP status its answer will have (Nest sets it before interceptors run). */
  status: number;
  done: boolean;
  /** An answer handed over in the transaction being committed (`answerInTransaction`). */
  staged?: string;
  /** The staged answer written by the commit in progress. */
  committing?: string;
  /** The answer committed with the effects, as stored (JSON). */
  answered?: string;
}
const attempts = new AsyncLocalStorage<Attempt>();

/**
 * Hands the request's answer to its Idempotency-Key from inside the transaction that commits
 * the request's effects: the key's answer is then written in that same COMMIT (by
 * `IdempotencyCommitSubscriber`), so a crash at any point leaves either nothing committed or
 * the effects together with their answer. Call it last in the transaction, with exactly what
 * the route returns; it returns `body`. Outside an idempotent request it does nothing.
 */
export function answerInTransaction<T>(body: T): T {
  const a = attempts.getStore();
  if (a && !a.done) a.staged = JSON.stringify(body ?? null);
  return body;
}

/** A stored status meaning: the attempt's effects committed, its answer is not stored yet. */
const EFFECT_COMMITTED = 0;

/**
 * Marks, inside every transaction an idempotent request commits, that its effects are in: the
 * mark commits atomically with them, and so does the answer when the transaction was handed
 * one (`answerInTransaction`): status_code and response_body are then final. It also fences:
 * an attempt whose key was taken over (it ran longer than IDEMPOTENCY_STALE_SECONDS, e.g. its
 * instance hung) cannot commit any more.
 * Registered as a TypeORM subscriber (app.module.ts); TypeORM instantiates only classes marked
 * with `@EventSubscriber()`: without it the class is silently dropped and nothing is marked.
 */
@EventSubscriber()
export class IdempotencyCommitSubscriber implements EntitySubscriberInterface {
  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const a = attempts.getStore();
    if (!a || a.done || !event.queryRunner) return;
    const staged = a.staged;
    a.staged = undefined;
    // Matched by the attempt's token only: a key taken over by a retry has another one.
    const r = (await event.queryRunner.query(
      `UPDATE idempotency_keys
          SET status_code = CASE WHEN $4::jsonb IS NOT NULL THEN $5::int
                                 ELSE COALESCE(status_code, ${EFFECT_COMMITTED}) END,
              response_body = COALESCE($4::jsonb, response_body)
        WHERE scope = $1 AND key = $2 AND created_at::text = $3`,
      [a.scope, a.key, a.token, staged ?? null, a.status],
      true,
    )) as { affected?: number };
    if (!r.affected) {
      throw new Error('this Idempotency-Key was taken over by a retry; not committing');
    }
    a.committing = staged;
  }

  afterTransactionCommit(_event: TransactionCommitEvent): void {
    const a = attempts.getStore();
    if (a?.committing !== undefined) a.answered = a.committing;
    if (a) a.committing = undefined;
  }

  afterTransactionRollback(_event: TransactionRollbackEvent): void {
    const a = attempts.getStore();
    if (a) a.staged = a.committing = undefined;
  }
}

/**
 * A POST that creates or moves money must carry an Idempotency-Key: the first answer is
 * stored and every retry with the same key and body gets it again; the same key with
 * another body is refused.
 *
 * Crash safety: an attempt whose instance died (or lost its database) leaves its key row
 * behind. Every transaction the attempt commits marks the row in the same COMMIT
 * (`IdempotencyCommitSubscriber`), with the answer when the route handed it over
 * (`answerInTransaction`). So after a crash at any point a retry finds one of:
 * - the answer: replayed, like any retry;
 * - nothing committed (unanswered, stale after IDEMPOTENCY_STALE_SECONDS): taken over and run;
 * - effects committed without their answer (stale): a resumable route (`@Idempotent({
 *   resumable: true })`) is taken over and run again, finishing what was committed and
 *   answering as the first attempt would have; any other route answers 409
 *   (`details.idempotency: outcome_unknown`), never running it twice. That last resort is
 *   left only to a route that commits before it can hand over its answer and cannot resume.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly staleSeconds = Number(process.env.IDEMPOTENCY_STALE_SECONDS ?? '30') || 30;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(this.run(ctx, next));
  }

  private async run(ctx: ExecutionContext, next: CallHandler): Promise<unknown> {
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const options = this.reflector.get<IdempotentOptions | undefined>(IDEMPOTENT, ctx.getHandler());
    const resumable = options?.resumable === true;
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
      if (prior.statusCode === EFFECT_COMMITTED && !resumable) {
        throw new DomainError(
          'conflict',
          'the first request with this Idempotency-Key took effect but its answer was lost',
          409,
          { idempotency: 'outcome_unknown' },
        );
      }
      if (prior.statusCode === null || prior.statusCode === EFFECT_COMMITTED) {
        // Unanswered (nothing committed, or a resumable route's effects without their answer):
        // still running, or its instance died. Stale → take it over (fencing the old attempt,
        // see IdempotencyCommitSubscriber). (TypeORM answers an UPDATE with [rows, affected].)
        const [taken] = await this.db.query<[{ token: string }[], number]>(
          `UPDATE idempotency_keys SET created_at = clock_timestamp()
            WHERE scope = $1 AND key = $2
              AND (status_code IS NULL OR (status_code = ${EFFECT_COMMITTED} AND $4))
              AND created_at < now() - make_interval(secs => $3)
            RETURNING created_at::text AS token`,
          [scope, key, this.staleSeconds, resumable],
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
    const attempt: Attempt = { scope, key, token, status: res.statusCode, done: false };
    let body: unknown;
    try {
      body = await attempts.run(attempt, () =>
        lastValueFrom(next.handle(), { defaultValue: null }),
      );
    } catch (err) {
      attempt.done = true;
      // A failed attempt that committed nothing leaves nothing behind: the client may retry
      // with the same key. One that committed effects keeps its mark, so a retry is not run
      // again (`outcome_unknown`), or, on a resumable route, resumes them: this attempt is
      // over, so its lease is given up at once rather than after IDEMPOTENCY_STALE_SECONDS.
      await this.db
        .query(
          `DELETE FROM idempotency_keys
            WHERE scope = $1 AND key = $2 AND created_at::text = $3 AND status_code IS NULL`,
          [scope, key, token],
        )
        .catch(() => undefined);
      if (resumable) {
        await this.db
          .query(
            `UPDATE idempotency_keys
                SET created_at = clock_timestamp() - make_interval(secs => $4 + 1)
              WHERE scope = $1 AND key = $2 AND created_at::text = $3
                AND status_code = ${EFFECT_COMMITTED}`,
            [scope, key, token, this.staleSeconds],
          )
          .catch(() => undefined);
      }
      throw err;
    }
    attempt.done = true;
    const answer = JSON.stringify(body ?? null);
    // Committed with the effects already (the usual case for a route that hands it over).
    if (attempt.answered === answer) return body;
    // The effects are in; store the answer. A connection lost right now (a PostgreSQL restart
    // or failover) is retried for a while: the pool reconnects, and a lost answer would turn
    // the client's retry into a resumed run or `outcome_unknown`.
    for (let i = 0; ; i++) {
      try {
        await this.db.query(
          `UPDATE idempotency_keys SET status_code = $4, response_body = $5
            WHERE scope = $1 AND key = $2 AND created_at::text = $3`,
          [scope, key, token, res.statusCode, answer],
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

/** See `IdempotencyInterceptor`; `resumable` in `IdempotentOptions`. */
export const Idempotent = (options: IdempotentOptions = {}) =>
  applyDecorators(SetMetadata(IDEMPOTENT, options), UseInterceptors(IdempotencyInterceptor));
