import { Body, Controller, Get, Put } from '@nestjs/common';
import { setFeesSchema } from '@suanli/contracts';
import { parseInput } from '../common/validation.js';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { FeesService } from './fees.service.js';

@Controller('v1/admin/fees')
export class FeesController {
  constructor(private readonly fees: FeesService) {}

  /**
   * Operators: the take rate new leases get (a decimal fraction of the lease amount, e.g. `0.05` =
   * 5 %), whether it comes from the schedule or the default, and its history.
   *
   * @summary Get the platform's fee (take rate)
   */
  @Roles('operator')
  @Get()
  view() {
    return this.fees.view();
  }

  /**
   * Operators set the take rate for leases placed from now on; running leases keep the rate they
   * were placed with. Audited, with the note.
   *
   * @summary Change the platform's fee (take rate)
   */
  @Roles('operator')
  @Put()
  set(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.fees.set(p.userId, parseInput(setFeesSchema, body));
  }
}
