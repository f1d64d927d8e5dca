import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { createOfferSchema, offerSearchSchema } from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Public, Roles } from '../auth/auth.decorators.js';
import { OffersService } from './offers.service.js';

@Controller('v1/offers')
export class OffersController {
  constructor(private readonly offers: OffersService) {}

  @Roles('seller')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.offers.create(p.orgId, parseInput(createOfferSchema, body));
  }

  @Public()
  @Get()
  async search(@Query() query: unknown) {
    return { items: await this.offers.search(parseInput(offerSearchSchema, query)) };
  }

  @Public()
  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.offers.get(id);
  }
}
