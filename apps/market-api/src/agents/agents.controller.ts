import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { enrolAgentSchema, heartbeatRangeSchema, heartbeatSchema } from '@suanli/contracts';
import type { JWK } from 'jose';
import { parseInput } from '../common/validation.js';
import {
  AgentAuth,
  type AgentPrincipal,
  CurrentAgent,
  CurrentPrincipal,
  type Principal,
  Roles,
} from '../auth/auth.decorators.js';
import { AgentsService } from './agents.service.js';

/** Metering agents: enrolment and heartbeat history (sellers), and the agent API itself. */
@Controller('v1')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Roles('seller')
  @Get('resources/:id/heartbeats')
  heartbeats(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: unknown,
  ) {
    return this.agents.heartbeats(p.orgId, id, parseInput(heartbeatRangeSchema, query));
  }

  @Roles('seller')
  @Post('resources/:id/agents')
  enrol(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.agents.enrolAgent(p.orgId, id, parseInput(enrolAgentSchema, body).publicJwk as JWK);
  }

  @AgentAuth()
  @Get('agents/me/leases')
  async agentLeases(@CurrentAgent() a: AgentPrincipal) {
    return { items: await this.agents.agentLeases(a.agentId, a.resourceId) };
  }

  @AgentAuth()
  @Post('agents/me/heartbeats')
  @HttpCode(202)
  heartbeat(@CurrentAgent() a: AgentPrincipal, @Body() body: unknown) {
    return this.agents.heartbeat(a.agentId, a.resourceId, parseInput(heartbeatSchema, body));
  }
}
