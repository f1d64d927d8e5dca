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

  /**
   * The agent's provisioners as probed at its start: which forms it delivers.
   *
   * @summary Report the agent's delivery capabilities
   */
  @AgentAuth()
  @Put('agents/me/delivery/capabilities')
  capabilities(@CurrentAgent() a: AgentPrincipal, @Body() body: unknown) {
    return this.delivery.reportCapabilities(
      a.resourceId,
      parseInput(deliveryCapabilitiesSchema, body),
    );
  }

  /**
   * The control channel (long-poll with `cursor` and `waitSeconds`).
   *
   * @summary Poll the agent's control channel
   */
  @AgentAuth()
  @Get('agents/me/delivery')
  view(@CurrentAgent() a: AgentPrincipal, @Query() q: unknown) {
    const { cursor, waitSeconds } = parseInput(agentDeliveryQuerySchema, q);
    return this.delivery.agentView(a.resourceId, cursor, waitSeconds);
  }

  /**
   * A step the agent took for a lease; repeating it is a no-op.
   *
   * @summary Report a delivery step for a lease
   * @param id The lease's id (a UUID).
   */
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

  /**
   * The steps of provisioning and tearing down the lease (`provisioning`, `granted`, `suspended`,
   * `resumed`, `revoked`, `failed`) as the agent reported them, oldest first. For the buyer and the
   * seller of the lease.
   *
   * @summary List a lease's delivery events
   * @param id The lease's id (a UUID).
   */
  @Roles('buyer', 'seller')
  @Get('leases/:id/delivery')
  async events(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return { items: await this.delivery.events(p, id) };
  }

  /**
   * The lease's access details, secrets included: its buyer only.
   *
   * @summary Get a lease's access details
   * @param id The lease's id (a UUID).
   */
  @Roles('buyer')
  @Get('leases/:id/access')
  access(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.delivery.access(p, id);
  }

  /**
   * The public SSH keys of the buyer's organization, installed on bare-metal and VM leases it
   * orders.
   *
   * @summary List the buyer's SSH keys
   */
  @Roles('buyer')
  @Get('ssh-keys')
  async listKeys(@CurrentPrincipal() p: Principal) {
    return { items: await this.keys.list(p.orgId) };
  }

  /**
   * Adds an OpenSSH public key (one `authorized_keys` line, e.g. `ssh-ed25519 AAAA… laptop`) to the
   * buyer's organization; leases delivered over SSH get it installed.
   *
   * @summary Add an SSH public key
   */
  @Roles('buyer')
  @Post('ssh-keys')
  addKey(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.keys.add(p.orgId, parseInput(addSshKeySchema, body));
  }

  /**
   * Running leases keep the key until they end; new leases no longer get it.
   *
   * @summary Remove an SSH public key
   * @param id The SSH key's id (a UUID).
   */
  @Roles('buyer')
  @Delete('ssh-keys/:id')
  @HttpCode(204)
  async removeKey(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    await this.keys.remove(p.orgId, id);
  }
}
