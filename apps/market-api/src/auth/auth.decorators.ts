import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from '@suanli/contracts';

export interface Principal {
  userId: string;
  orgId: string;
  roles: Role[];
}

export interface AgentPrincipal {
  agentId: string;
  resourceId: string;
}

export const ROLES_KEY = 'suanli:roles';
export const PUBLIC_KEY = 'suanli:public';
export const AGENT_KEY = 'suanli:agent';

/** The roles (any of) an endpoint admits. Every endpoint carries @Roles, @Public or @AgentAuth. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
export const Public = () => SetMetadata(PUBLIC_KEY, true);
/** Authenticated by a JWT signed with a metering agent's own enrolled key. */
export const AgentAuth = () => SetMetadata(AGENT_KEY, true);

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
    if (!req.principal) throw new Error('CurrentPrincipal used on an endpoint without @Roles');
    return req.principal;
  },
);

export const CurrentAgent = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AgentPrincipal => {
    const req = ctx.switchToHttp().getRequest<{ agent?: AgentPrincipal }>();
    if (!req.agent) throw new Error('CurrentAgent used on an endpoint without @AgentAuth');
    return req.agent;
  },
);
