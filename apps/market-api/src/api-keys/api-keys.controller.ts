import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { createApiKeySchema } from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { ApiKeysService } from './api-keys.service.js';

@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Roles('seller', 'buyer', 'assessor', 'operator')
  @Post()
  // Not @Idempotent: a replay store would keep the secret, which is shown once and never stored.
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.keys.create(p, parseInput(createApiKeySchema, body));
  }

  @Roles('seller', 'buyer', 'assessor', 'operator')
  @Get()
  async list(@CurrentPrincipal() p: Principal) {
    return { items: await this.keys.list(p) };
  }

  @Roles('seller', 'buyer', 'assessor', 'operator')
  @Delete(':id')
  revoke(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.keys.revoke(p, id);
  }
}
