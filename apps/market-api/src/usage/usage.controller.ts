import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import type { Request } from 'express';
import { deadLettersQuerySchema, resourceUsageQuerySchema } from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import {
  ApiKeyAuth,
  type ApiKeyPrincipal,
  CurrentApiKey,
  CurrentPrincipal,
  type Principal,
  Roles,
} from '../auth/auth.decorators.js';
import { cloudEventsOf } from './cloudevents-body.js';
import { UsageService } from './usage.service.js';

@Controller('v1')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /**
   * Plain CloudEvents from collectors that cannot sign, in any content mode of the CloudEvents
   * HTTP binding: binary (the official SDKs' default: `ce-*` headers, the event's `data` as an
   * `application/json` body), structured (`application/cloudevents+json`, one event) or batched
   * (`application/cloudevents-batch+json`, an array of up to 1000). An event may leave out
   * `data.units` (and `data.catalog`): the exchange then rates its raw `usage` with the catalog
   * version it names, else the current one, and answers which in `rated`. Answers 202: the
   * ingest applies the events (or dead-letters them: `GET /v1/usage/dead-letters`).
   *
   * @summary Send usage as CloudEvents
   */
  @ApiKeyAuth('usage:write')
  @Post('usage/events')
  @HttpCode(202)
  events(
    @CurrentApiKey() key: ApiKeyPrincipal,
    @Req() req: Request & { cloudEvents?: unknown; rawBody?: Buffer },
  ) {
    return this.usage.ingest(key, cloudEventsOf(req).events);
  }

  /**
   * Usage events and batches the ingest refused (bad signature, unknown lease, window outside the
   * lease, duplicate sequence…), newest first, with the reason. Sellers see those of their
   * resources, operators all.
   *
   * @summary List refused usage events
   */
  @Roles('seller', 'operator')
  @Get('usage/dead-letters')
  deadLetters(@CurrentPrincipal() p: Principal, @Query() q: unknown) {
    return this.usage.deadLetters(p, parseInput(deadLettersQuerySchema, q));
  }

  /**
   * The resource's metered usage in standard units over all its leases, bucketed within `[from,
   * to)`. For its seller and operators.
   *
   * @summary Get a resource's metered usage
   * @param id The resource's id (a UUID).
   */
  @Roles('seller', 'operator')
  @Get('resources/:id/usage')
  async resourceUsage(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: unknown,
  ) {
    return {
      items: await this.usage.resourceUsage(p, id, parseInput(resourceUsageQuerySchema, q)),
    };
  }
}
