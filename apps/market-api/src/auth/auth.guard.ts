import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { ApiKeyScope, Role } from '@suanli/contracts';
import { forbidden, unauthenticated } from '../common/errors.js';
import {
  AGENT_KEY,
  API_KEY_SCOPE,
  type ApiKeyPrincipal,
  type AgentPrincipal,
  type Principal,
  PUBLIC_KEY,
  ROLES_KEY,
} from './auth.decorators.js';
import { TokensService } from './tokens.service.js';
import { AgentVerifier, ApiKeyVerifier, OrganizationStateVerifier } from './verifiers.js';

/**
 * Global guard: an endpoint without @Public, @AgentAuth or @Roles is closed to everyone,
 * so forgetting a decorator fails safe.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * An erased organization's access tokens and keys stop working at once, not when they
   * expire: its state is read on every request.
   */
  private assertNotErased(orgId: string): Promise<void> {
    return this.moduleRef.get(OrganizationStateVerifier, { strict: false }).assertNotErased(orgId);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx
      .switchToHttp()
      .getRequest<
        Request & { principal?: Principal; agent?: AgentPrincipal; apiKey?: ApiKeyPrincipal }
      >();
    const header = req.header('authorization') ?? '';
    const match = /^Bearer ([\w.~+/=-]+)$/.exec(header);
    if (!match) throw unauthenticated();
    const scope = this.reflector.getAllAndOverride<ApiKeyScope | undefined>(API_KEY_SCOPE, targets);
    if (scope !== undefined && match[1].startsWith('sk_')) {
      const keys = this.moduleRef.get(ApiKeyVerifier, { strict: false });
      req.apiKey = await keys.verify(match[1], scope, {
        method: req.method,
        path: req.path,
        ip: req.ip ?? null,
      });
      await this.assertNotErased(req.apiKey.orgId);
      return true;
    }
    if (this.reflector.getAllAndOverride<boolean>(AGENT_KEY, targets)) {
      req.agent = await this.moduleRef.get(AgentVerifier, { strict: false }).verify(match[1]);
      return true;
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    const principal = await this.tokens.verifyAccessToken(match[1]);
    await this.assertNotErased(principal.orgId);
    req.principal = principal;
    if (!roles || !roles.some((r) => principal.roles.includes(r))) {
      throw forbidden(
        roles ? `requires one of the roles: ${roles.join(', ')}` : 'endpoint is closed',
      );
    }
    return true;
  }
}
