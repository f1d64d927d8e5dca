import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { decodeJwt, importJWK, jwtVerify, type JWK } from 'jose';
import { DataSource, IsNull } from 'typeorm';
import { unauthenticated } from '../common/errors.js';
import type { AgentPrincipal } from '../auth/auth.decorators.js';
import { TOKEN_AUDIENCE } from '../auth/tokens.service.js';
import { AgentVerifier } from '../auth/verifiers.js';
import { AgentEntity } from './agents.entities.js';

/** Agents authenticate with a short JWT signed by their own enrolled Ed25519 key. */
@Injectable()
export class AgentTokenVerifier extends AgentVerifier {
  constructor(@InjectDataSource() private readonly db: DataSource) {
    super();
  }

  async verify(token: string): Promise<AgentPrincipal> {
    let agentId: string | undefined;
    try {
      agentId = decodeJwt(token).iss;
    } catch {
      throw unauthenticated('the agent token is malformed');
    }
    if (!agentId) throw unauthenticated('the agent token has no issuer');
    const agent = await this.db
      .getRepository(AgentEntity)
      .findOneBy({ id: agentId, revokedAt: IsNull() });
    if (!agent) throw unauthenticated('unknown or revoked agent');
    try {
      const key = await importJWK({ ...(agent.publicJwk as JWK), alg: 'EdDSA' }, 'EdDSA');
      await jwtVerify(token, key, {
        issuer: agentId,
        audience: TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
        maxTokenAge: '5m',
      });
    } catch {
      throw unauthenticated('the agent token does not verify');
    }
    return { agentId: agent.id, resourceId: agent.resourceId };
  }
}
