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

  /**
   * A seller offers slots of one of its schedulable resources: capacity, pricing model and prices
   * per standard unit, minimum and maximum lease hours, availability window and SLA. Buyers can
   * order it at once.
   *
   * @summary Publish an offer
   */
  @Roles('seller')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.offers.create(p.orgId, parseInput(createOfferSchema, body));
  }

  /**
   * Published, unpaused offers with free capacity, filtered by class, form, region, accelerator,
   * price and credibility, in the order asked for; paged with `cursor`.
   *
   * @summary Search offers
   */
  @Public()
  @Get()
  search(@Query() query: unknown) {
    return this.offers.search(parseInput(offerSearchSchema, query));
  }

  /**
   * Every offer of the caller's organization, paused and closed ones included.
   *
   * @summary List the seller's own offers
   */
  @Roles('seller')
  @Get('mine')
  async mine(@CurrentPrincipal() p: Principal) {
    return { items: await this.offers.listOwn(p.orgId) };
  }

  /**
   * One offer with its prices, capacity, availability, SLA and the resource it sells.
   *
   * @summary Get an offer
   * @param id The offer's id (a UUID).
   */
  @Public()
  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.offers.get(id);
  }

  /**
   * The seller changes an offer's terms; running leases keep the terms they were placed with
   * (pinned). Changing the pricing model needs the new prices in the same request.
   *
   * @summary Change an offer
   * @param id The offer's id (a UUID).
   */
  @Roles('seller')
  @Patch(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.offers.update(p.orgId, id, parseInput(updateOfferSchema, body));
  }

  /**
   * A paused offer is hidden from search and cannot be ordered; running leases go on.
   *
   * @summary Pause an offer
   * @param id The offer's id (a UUID).
   */
  @Roles('seller')
  @Post(':id/pause')
  @HttpCode(200)
  pause(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.offers.setStatus(p.orgId, id, 'pause');
  }

  /**
   * The offer is searchable and can be ordered again.
   *
   * @summary Resume a paused offer
   * @param id The offer's id (a UUID).
   */
  @Roles('seller')
  @Post(':id/resume')
  @HttpCode(200)
  resume(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.offers.setStatus(p.orgId, id, 'resume');
  }

  /**
   * Retires the offer for good; running leases go on under their pinned terms.
   *
   * @summary Close an offer for good
   * @param id The offer's id (a UUID).
   */
  @Roles('seller')
  @Post(':id/close')
  @HttpCode(200)
  close(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.offers.setStatus(p.orgId, id, 'close');
  }
}
