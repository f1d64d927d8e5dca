import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { enrolAgentSchema, registerResourceSchema } from '@suanli/contracts';
import type { JWK } from 'jose';
import { parseInput } from '../common/validation.js';
import {
  AgentAuth,
  type AgentPrincipal,
  CurrentAgent,
  CurrentPrincipal,
  type Principal,
  Public,
  Roles,
} from '../auth/auth.decorators.js';
import { RegistryService } from './registry.service.js';

@Controller('v1')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Roles('seller')
  @Post('resources')
  register(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.registry.register(p.orgId, parseInput(registerResourceSchema, body));
  }

  @Roles('seller')
  @Get('resources')
  async list(@CurrentPrincipal() p: Principal) {
    return { items: await this.registry.listOwn(p.orgId) };
  }

  @Roles('seller')
  @Get('resources/:id')
  async get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.registry.view(await this.registry.getOwn(p.orgId, id));
  }

  @Roles('seller')
  @Post('resources/:id/agents')
  enrol(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.registry.enrolAgent(
      p.orgId,
      id,
      parseInput(enrolAgentSchema, body).publicJwk as JWK,
    );
  }

  /** The identifier gateway: resolve a full CRI or a handle (`86.R03.E00042/000137`, URL-encoded). */
  @Public()
  @Get('cri/:code')
  resolve(@Param('code') code: string) {
    return this.registry.resolve(code);
  }

  @AgentAuth()
  @Get('agents/me/leases')
  async agentLeases(@CurrentAgent() a: AgentPrincipal) {
    return { items: await this.registry.agentLeases(a.agentId, a.resourceId) };
  }
}
