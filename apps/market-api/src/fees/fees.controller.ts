import { Body, Controller, Get, Put } from '@nestjs/common';
import { setFeesSchema } from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { FeesService } from './fees.service.js';

@Controller('v1/admin/fees')
export class FeesController {
  constructor(private readonly fees: FeesService) {}

  @Roles('operator')
  @Get()
  view() {
    return this.fees.view();
  }

  @Roles('operator')
  @Put()
  set(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.fees.set(p.userId, parseInput(setFeesSchema, body));
  }
}
