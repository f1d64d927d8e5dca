import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import type { ApiKeyScope, Role } from '@suanli/contracts';

export interface Principal {
  userId: string;
  orgId: string;
  roles: Role[];
}

export interface AgentPrincipal {
  agentId: string;
  resourceId: string;
}

/** A caller authenticated by an organization API key (`Bearer sk_…`). */
export interface ApiKeyPrincipal {
  keyId: string;
  orgId: string;
  scopes: ApiKeyScope[];
}

export const ROLES_KEY = 'suanli:roles';
export const API_KEY_SCOPE = 'suanli:api-key-scope';
export const PUBLIC_KEY = 'suanli:public';
export const AGENT_KEY = 'suanli:agent';
export const PEER_KEY = 'suanli:peer';
export const SCRAPE_TOKEN_KEY = 'suanli:scrape-token';

/** The roles (any of) an endpoint admits. Every endpoint carries @Roles, @Public or @AgentAuth. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
export const Public = () => SetMetadata(PUBLIC_KEY, true);
/** Authenticated by a JWT signed with a metering agent's own enrolled key. */
export const AgentAuth = () => SetMetadata(AGENT_KEY, true);
/**
 * Platform-to-platform: no user credentials (the guard lets it pass), the handler verifies the
 * peer's client assertion itself (docs/federation.md); the API document says so.
 */
export const PeerAuth = () => applyDecorators(Public(), SetMetadata(PEER_KEY, true));
/**
 * For Prometheus: no user credentials (the guard lets it pass), the handler checks the bearer
 * scrape token (`METRICS_TOKEN`) itself; the API document says so.
 */
export const ScrapeTokenAuth = () => applyDecorators(Public(), SetMetadata(SCRAPE_TOKEN_KEY, true));

/** Admits an organization API key (`Bearer sk_…`) holding `scope`. */
export const ApiKeyAuth = (scope: ApiKeyScope) => SetMetadata(API_KEY_SCOPE, scope);

export const CurrentApiKey = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ApiKeyPrincipal => {
    const req = ctx.switchToHttp().getRequest<{ apiKey?: ApiKeyPrincipal }>();
    if (!req.apiKey) throw new Error('CurrentApiKey used on an endpoint without @ApiKeyAuth');
    return req.apiKey;
  },
);

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
