import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Role } from '@suanli/contracts';
import { forbidden, unauthenticated } from '../common/errors.js';
import { AgentTokenVerifier } from './agent-token.verifier.js';
import {
  AGENT_KEY,
  type AgentPrincipal,
  type Principal,
  PUBLIC_KEY,
  ROLES_KEY,
} from './auth.decorators.js';
import { TokensService } from './tokens.service.js';

/**
 * Global guard: an endpoint without @Public, @AgentAuth or @Roles is closed to everyone,
 * so forgetting a decorator fails safe.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    private readonly agents: AgentTokenVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx
      .switchToHttp()
      .getRequest<Request & { principal?: Principal; agent?: AgentPrincipal }>();
    const header = req.header('authorization') ?? '';
    const match = /^Bearer ([\w.~+/=-]+)$/.exec(header);
    if (!match) throw unauthenticated();
    if (this.reflector.getAllAndOverride<boolean>(AGENT_KEY, targets)) {
      req.agent = await this.agents.verify(match[1]);
      return true;
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    const principal = await this.tokens.verifyAccessToken(match[1]);
    req.principal = principal;
    if (!roles || !roles.some((r) => principal.roles.includes(r))) {
      throw forbidden(
        roles ? `requires one of the roles: ${roles.join(', ')}` : 'endpoint is closed',
      );
    }
    return true;
  }
}
