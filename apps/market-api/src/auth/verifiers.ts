import type { ApiKeyScope } from '@suanli/contracts';
import type { AgentPrincipal, ApiKeyPrincipal } from './auth.decorators.js';

/** Where and how a key was used (one row per authenticated request). */
export interface ApiKeyUse {
  method: string;
  path: string;
  ip: string | null;
}

/**
 * Verifies an organization API key (`Bearer sk_…`) for a scope. The auth guard asks for it;
 * api-keys/ provides it, so that auth/ does not depend on the feature that depends on it.
 */
export abstract class ApiKeyVerifier {
  abstract verify(secret: string, scope: ApiKeyScope, use?: ApiKeyUse): Promise<ApiKeyPrincipal>;
}

/** Verifies a metering agent's token (a JWT signed by its enrolled key); provided by agents/. */
export abstract class AgentVerifier {
  abstract verify(token: string): Promise<AgentPrincipal>;
}

/**
 * Refuses a token or key whose organization was erased (401), on every request: provided by
 * accounts/, which owns organizations.
 */
export abstract class OrganizationStateVerifier {
  abstract assertNotErased(orgId: string): Promise<void>;
}
