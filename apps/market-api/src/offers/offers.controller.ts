import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { createOfferSchema, offerSearchSchema, updateOfferSchema } from '@suanli/contracts';
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
  search(@Query() query: unknown) {
    return this.offers.search(parseInput(offerSearchSchema, query));
  }

  @Roles('seller')
  @Get('mine')
  async mine(@CurrentPrincipal() p: Principal) {
    return { items: await this.offers.listOwn(p.orgId) };
  }

  @Public()
  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.offers.get(id);
  }

  @Roles('seller')
  @Patch(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.offers.update(p.orgId, id, parseInput(updateOfferSchema, body));
  }

  @Roles('seller')
  @Post(':id/pause')
  @HttpCode(200)
  pause(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.offers.setStatus(p.orgId, id, 'pause');
  }

  @Roles('seller')
  @Post(':id/resume')
  @HttpCode(200)
  resume(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.offers.setStatus(p.orgId, id, 'resume');
  }

  /** Retires the offer for good; running leases go on under their pinned terms. */
  @Roles('seller')
  @Post(':id/close')
  @HttpCode(200)
  close(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.offers.setStatus(p.orgId, id, 'close');
  }
}
