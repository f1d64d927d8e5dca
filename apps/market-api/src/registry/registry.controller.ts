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

  /** Registers a resource; idempotent under an optional Idempotency-Key (see README). */
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

  @Roles('seller')
  @Get('resources')
  async list(@CurrentPrincipal() p: Principal) {
    return { items: await this.registry.listOwn(p.orgId) };
  }

  /** Public search over the registry (declared before `resources/:id`). */
  @Public()
  @Get('resources/search')
  search(@Query() query: unknown) {
    return this.registry.search(parseInput(resourceSearchSchema, query));
  }

  @Roles('seller')
  @Get('resources/:id')
  async get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.registry.view(await this.registry.getOwn(p.orgId, id));
  }

  @Roles('seller')
  @Patch('resources/:id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.registry.update(p.orgId, id, parseInput(updateResourceSchema, body));
  }

  @Roles('seller')
  @Post('resources/:id/retire')
  @HttpCode(200)
  retire(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.registry.retire(p.orgId, id);
  }

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
