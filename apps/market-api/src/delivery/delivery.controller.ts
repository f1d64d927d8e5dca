import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  addSshKeySchema,
  agentDeliveryQuerySchema,
  deliveryCapabilitiesSchema,
  deliveryReportSchema,
} from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import {
  type AgentPrincipal,
  AgentAuth,
  CurrentAgent,
  CurrentPrincipal,
  type Principal,
  Roles,
} from '../auth/auth.decorators.js';
import { DeliveryService } from './delivery.service.js';
import { SshKeysService } from './ssh-keys.service.js';

/** Delivery over HTTP (docs/delivery.md, "The market side"): the agent's channel and the lease's. */
@Controller('v1')
export class DeliveryController {
  constructor(
    private readonly delivery: DeliveryService,
    private readonly keys: SshKeysService,
  ) {}

  /** The agent's provisioners as probed at its start: which forms it delivers. */
  @AgentAuth()
  @Put('agents/me/delivery/capabilities')
  capabilities(@CurrentAgent() a: AgentPrincipal, @Body() body: unknown) {
    return this.delivery.reportCapabilities(
      a.resourceId,
      parseInput(deliveryCapabilitiesSchema, body),
    );
  }

  /** The control channel (long-poll with `cursor` and `waitSeconds`). */
  @AgentAuth()
  @Get('agents/me/delivery')
  view(@CurrentAgent() a: AgentPrincipal, @Query() q: unknown) {
    const { cursor, waitSeconds } = parseInput(agentDeliveryQuerySchema, q);
    return this.delivery.agentView(a.resourceId, cursor, waitSeconds);
  }

  /** A step the agent took for a lease; repeating it is a no-op. */
  @AgentAuth()
  @Post('agents/me/leases/:id/delivery')
  @HttpCode(200)
  report(
    @CurrentAgent() a: AgentPrincipal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.delivery.report(a.resourceId, id, parseInput(deliveryReportSchema, body));
  }

  @Roles('buyer', 'seller')
  @Get('leases/:id/delivery')
  async events(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return { items: await this.delivery.events(p, id) };
  }

  /** The lease's access details, secrets included: its buyer only. */
  @Roles('buyer')
  @Get('leases/:id/access')
  access(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.delivery.access(p, id);
  }

  @Roles('buyer')
  @Get('ssh-keys')
  async listKeys(@CurrentPrincipal() p: Principal) {
    return { items: await this.keys.list(p.orgId) };
  }

  @Roles('buyer')
  @Post('ssh-keys')
  addKey(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.keys.add(p.orgId, parseInput(addSshKeySchema, body));
  }

  @Roles('buyer')
  @Delete('ssh-keys/:id')
  @HttpCode(204)
  async removeKey(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    await this.keys.remove(p.orgId, id);
  }
}
