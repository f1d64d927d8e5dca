import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { demandSchema } from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import { Roles } from '../auth/auth.decorators.js';
import { DemandsService } from './demands.service.js';

@Controller('v1/demands')
export class DemandsController {
  constructor(private readonly demands: DemandsService) {}

  /**
   * Ranked candidates for a demand; nothing is reserved until the buyer orders one.
   *
   * @summary Match a demand to offers
   */
  @Roles('buyer')
  @Post()
  @HttpCode(200)
  match(@Body() body: unknown) {
    return this.demands.match(parseInput(demandSchema, body));
  }
}
