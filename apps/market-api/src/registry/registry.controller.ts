import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import {
  lifecycleTransitionSchema,
  registerResourceRequestSchema,
  resourceSearchSchema,
  updateResourceSchema,
} from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Public, Roles } from '../auth/auth.decorators.js';
import { OptionalIdempotencyInterceptor } from './optional-idempotency.interceptor.js';
import { RegistryService } from './registry.service.js';

@Controller('v1')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  /**
   * Registers a resource; idempotent under an optional Idempotency-Key (see README).
   *
   * @summary Register a resource
   */
  @Roles('seller')
  @Post('resources')
  @UseInterceptors(OptionalIdempotencyInterceptor)
  register(
    @CurrentPrincipal() p: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
  ) {
    return this.registry.register(p.orgId, parseInput(registerResourceRequestSchema, body), {
      keyed: key !== undefined,
    });
  }

  /**
   * Every resource of the caller's organization with its CRI, spec, lifecycle state and live
   * status.
   *
   * @summary List the seller's resources
   */
  @Roles('seller')
  @Get('resources')
  async list(@CurrentPrincipal() p: Principal) {
    return { items: await this.registry.listOwn(p.orgId) };
  }

  /**
   * Public search over the registry (declared before `resources/:id`).
   *
   * Public search over registered resources by class, form, location, industry, registrant,
   * accelerator, CPU and memory ranges, lifecycle state and live status; paged with `cursor`.
   *
   * @summary Search the public registry
   */
  @Public()
  @Get('resources/search')
  search(@Query() query: unknown) {
    return this.registry.search(parseInput(resourceSearchSchema, query));
  }

  /**
   * One of the seller's resources with its CRI, spec, lifecycle state, live status and last
   * heartbeat.
   *
   * @summary Get a resource
   * @param id The resource's id (a UUID).
   */
  @Roles('seller')
  @Get('resources/:id')
  async get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.registry.view(await this.registry.getOwn(p.orgId, id));
  }

  /**
   * The seller corrects a resource's declared facts (spec, location, site). The CRI stays the same.
   *
   * @summary Change a resource
   * @param id The resource's id (a UUID).
   */
  @Roles('seller')
  @Patch('resources/:id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.registry.update(p.orgId, id, parseInput(updateResourceSchema, body));
  }

  /**
   * The resource leaves the market for good: its offers close; running leases end under their
   * terms.
   *
   * @summary Retire a resource
   * @param id The resource's id (a UUID).
   */
  @Roles('seller')
  @Post('resources/:id/retire')
  @HttpCode(200)
  retire(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.registry.retire(p.orgId, id);
  }

  /**
   * Moves the resource along its lifecycle: `prepared` → `connected` (needs an enrolled agent) →
   * `schedulable` (may be offered) → `running` (needs an active lease) → `retired`. A move the
   * lifecycle does not allow answers 409 (`invalid_state`).
   *
   * @summary Move a resource to another lifecycle state
   * @param id The resource's id (a UUID).
   */
  @Roles('seller')
  @Post('resources/:id/lifecycle')
  @HttpCode(200)
  moveTo(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.registry.moveTo(p.orgId, id, parseInput(lifecycleTransitionSchema, body).to);
  }

  // The identifier gateway, GET /v1/cri/:code, is federation/federation.controller.ts.
}
