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

  /**
   * The health reports the resource's metering agents sent, oldest first, within `[from, to)`; at
   * most `limit` of them. Only the seller that owns the resource sees them.
   *
   * @summary List a resource's agent heartbeats
   * @param id The resource's id (a UUID).
   */
  @Roles('seller')
  @Get('resources/:id/heartbeats')
  heartbeats(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: unknown,
  ) {
    return this.agents.heartbeats(p.orgId, id, parseInput(heartbeatRangeSchema, query));
  }

  /**
   * Registers the public Ed25519 key (a JWK) of a metering agent installed on the seller's
   * resource. The agent signs its tokens and usage batches with the private half; the answer
   * carries the agent's id and handle.
   *
   * @summary Enrol a metering agent for a resource
   * @param id The resource's id (a UUID).
   */
  @Roles('seller')
  @Post('resources/:id/agents')
  enrol(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.agents.enrolAgent(p.orgId, id, parseInput(enrolAgentSchema, body).publicJwk as JWK);
  }

  /**
   * For the metering agent calling: the leases running (or about to start) on its resource, with
   * the lease's slots, spec, period and the unit catalog version to rate with.
   *
   * @summary List the leases the agent meters
   */
  @AgentAuth()
  @Get('agents/me/leases')
  async agentLeases(@CurrentAgent() a: AgentPrincipal) {
    return { items: await this.agents.agentLeases(a.agentId, a.resourceId) };
  }

  /**
   * The agent's periodic report: `online`, `degraded` or `offline`, and the fraction of capacity in
   * use. The registry derives the resource's live status from these; a resource without a heartbeat
   * for a while shows as offline.
   *
   * @summary Report the resource's health (agent)
   */
  @AgentAuth()
  @Post('agents/me/heartbeats')
  @HttpCode(202)
  heartbeat(@CurrentAgent() a: AgentPrincipal, @Body() body: unknown) {
    return this.agents.heartbeat(a.agentId, a.resourceId, parseInput(heartbeatSchema, body));
  }
}
