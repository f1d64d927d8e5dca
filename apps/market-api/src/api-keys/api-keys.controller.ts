import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { createApiKeySchema } from '@suanli/contracts';
import { z } from 'zod';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { ApiKeysService, type ApiKeyUsePage } from './api-keys.service.js';

/** Query of `GET /v1/api-keys/{id}/uses`. */
export const apiKeyUsesQuerySchema = z.object({
  /** The previous page's `nextCursor`. */
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,17}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  /**
   * Creates an organization API key with the scopes asked for. The secret (`sk_…`) is in this
   * answer only: it is stored as a hash and never shown again.
   *
   * @summary Create an API key
   */
  @Roles('seller', 'buyer', 'assessor', 'operator')
  @Post()
  // Not @Idempotent: a replay store would keep the secret, which is shown once and never stored.
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.keys.create(p, parseInput(createApiKeySchema, body));
  }

  /**
   * Every key of the caller's organization, revoked ones included, with its scopes and last use;
   * never the secret.
   *
   * @summary List the organization's API keys
   */
  @Roles('seller', 'buyer', 'assessor', 'operator')
  @Get()
  async list(@CurrentPrincipal() p: Principal) {
    return { items: await this.keys.list(p) };
  }

  /**
   * Every authenticated use of the key: time, method, path and address, newest first.
   *
   * @summary List the uses of an API key
   * @param id The API key's id (a UUID).
   */
  @Roles('seller', 'buyer', 'assessor', 'operator')
  @Get(':id/uses')
  uses(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: unknown,
  ): Promise<ApiKeyUsePage> {
    const { cursor, limit } = parseInput(apiKeyUsesQuerySchema, q);
    return this.keys.uses(p, id, cursor, limit);
  }

  /**
   * The key stops working at once; its record and uses are kept. Revoking a revoked key answers it
   * unchanged.
   *
   * @summary Revoke an API key
   * @param id The API key's id (a UUID).
   */
  @Roles('seller', 'buyer', 'assessor', 'operator')
  @Delete(':id')
  revoke(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.keys.revoke(p, id);
  }
}
