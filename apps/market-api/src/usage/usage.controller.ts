import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import type { Request } from 'express';
import { deadLettersQuerySchema, resourceUsageQuerySchema } from '@suanli/contracts';
import { DomainError } from '../common/errors.js';
import { parseInput } from '../common/validation.js';
import {
  ApiKeyAuth,
  type ApiKeyPrincipal,
  CurrentApiKey,
  CurrentPrincipal,
  type Principal,
  Roles,
} from '../auth/auth.decorators.js';
import { CLOUDEVENTS_BATCH, CLOUDEVENTS_STRUCTURED } from './cloudevents-body.js';
import { UsageService } from './usage.service.js';

@Controller('v1')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /**
   * Plain CloudEvents from collectors that cannot sign: structured mode
   * (`application/cloudevents+json`, one event) or batch mode
   * (`application/cloudevents-batch+json`, an array). Answers 202: the ingest applies them.
   */
  @ApiKeyAuth('usage:write')
  @Post('usage/events')
  @HttpCode(202)
  events(@CurrentApiKey() key: ApiKeyPrincipal, @Req() req: Request & { cloudEvents?: unknown }) {
    const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const body = req.cloudEvents;
    if (type === CLOUDEVENTS_BATCH) {
      if (!Array.isArray(body)) {
        throw new DomainError('validation_failed', 'a batch must be a JSON array', 400);
      }
      return this.usage.ingest(key, body);
    }
    if (type === CLOUDEVENTS_STRUCTURED) {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new DomainError('validation_failed', 'a structured event must be a JSON object', 400);
      }
      return this.usage.ingest(key, [body]);
    }
    throw new DomainError(
      'validation_failed',
      `content-type must be ${CLOUDEVENTS_STRUCTURED} or ${CLOUDEVENTS_BATCH}`,
      415,
    );
  }

  @Roles('seller', 'operator')
  @Get('usage/dead-letters')
  deadLetters(@CurrentPrincipal() p: Principal, @Query() q: unknown) {
    return this.usage.deadLetters(p, parseInput(deadLettersQuerySchema, q));
  }

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
