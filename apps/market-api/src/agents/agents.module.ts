import { Global, Module } from '@nestjs/common';
import { AgentVerifier } from '../auth/verifiers.js';
import { EnrolledAgents } from '../registry/enrolled-agents.js';
import { RegistryModule } from '../registry/registry.module.js';
import { AgentTokenVerifier } from './agent-token.verifier.js';
import { AgentsController } from './agents.controller.js';
import { AgentDirectory, AgentsService } from './agents.service.js';

/**
 * Metering agents: enrolment, the agent API (`/v1/agents/me/…`) and heartbeats. Global for the
 * two things others ask of it without depending on it: the auth guard verifies agent tokens, the
 * registry asks whether a resource has an agent.
 */
@Global()
@Module({
  imports: [RegistryModule],
  controllers: [AgentsController],
  providers: [
    AgentsService,
    AgentTokenVerifier,
    AgentDirectory,
    { provide: AgentVerifier, useExisting: AgentTokenVerifier },
    { provide: EnrolledAgents, useExisting: AgentDirectory },
  ],
  exports: [AgentVerifier, EnrolledAgents],
})
export class AgentsModule {}
