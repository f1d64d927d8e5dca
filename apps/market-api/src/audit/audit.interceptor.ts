import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { ApiKeyPrincipal, Principal } from '../auth/auth.decorators.js';
import { DomainError } from '../common/errors.js';
import { AUDIT_RULES, type AuditContext, type AuditRule } from './audit-rules.js';
import { AuditService } from './audit.service.js';

type AuditedRequest = Request & {
  principal?: Principal;
  apiKey?: ApiKeyPrincipal;
  correlationId?: string;
};

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function ruleFor(req: Request): AuditRule | undefined {
  const path = (req.route as { path?: string } | undefined)?.path;
  if (!path) return undefined;
  const rule = AUDIT_RULES[`${req.method} ${path}`];
  if (rule) return rule;
  if (req.method !== 'GET' && path.startsWith('/v1/admin/')) {
    return { action: `admin.${req.method.toLowerCase()} ${path}`, details: (c) => c.params };
  }
  return undefined;
}

/**
 * Records the audited routes' outcomes in the audit log after the handler succeeded (and, for
 * log-in, when it was refused). A failure to record is logged, never hidden from the caller:
 * the request fails with 500 rather than going unaudited.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly log = new Logger('audit');

  constructor(private readonly audit: AuditService) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<AuditedRequest>();
    const rule = ruleFor(req);
    if (!rule) return next.handle();
    return from(this.run(req, rule, next));
  }

  private async run(req: AuditedRequest, rule: AuditRule, next: CallHandler): Promise<unknown> {
    const c: AuditContext = {
      params: (req.params ?? {}) as Record<string, string>,
      body: obj(req.body),
      result: {},
    };
    let result: unknown;
    try {
      result = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      if (rule.failures && err instanceof DomainError && err.status < 500) {
        await this.write(req, rule, c, 'failed', { code: err.code });
      }
      throw err;
    }
    c.result = obj(result);
    if (!rule.handlerRecordsSuccess) await this.write(req, rule, c, 'succeeded', {});
    return result;
  }

  private async write(
    req: AuditedRequest,
    rule: AuditRule,
    c: AuditContext,
    outcome: 'succeeded' | 'failed',
    extra: Record<string, unknown>,
  ): Promise<void> {
    const p = req.principal;
    const fromResult = rule.actorFromResult && outcome === 'succeeded';
    const actorUserId = fromResult ? (obj(c.result.user).id as string | undefined) : p?.userId;
    const actorOrgId = fromResult
      ? (obj(c.result.organization).id as string | undefined)
      : (p?.orgId ?? req.apiKey?.orgId);
    try {
      await this.audit.record({
        action: rule.action,
        outcome,
        actorUserId: actorUserId ?? null,
        actorOrgId: actorOrgId ?? null,
        actorKeyId: req.apiKey?.keyId ?? null,
        orgId: rule.org?.(c) ?? actorOrgId ?? null,
        targetType: rule.targetType ?? null,
        targetId: rule.target?.(c) ?? null,
        ip: req.ip ?? null,
        correlationId: req.correlationId ?? null,
        details: { ...(rule.details?.(c) ?? {}), ...extra },
      });
    } catch (err) {
      this.log.error(`could not record ${rule.action}: ${(err as Error).message}`);
      throw err;
    }
  }
}
