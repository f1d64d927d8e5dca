import { Controller, Get, Query } from '@nestjs/common';
import { windowHoursQuery } from '@suanli/contracts';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { parseInput } from '../common/validation.js';
import {
  MonitoringService,
  type ResourceMonitoringView,
  type SellerMonitoringView,
} from './monitoring.service.js';

/** Status, utilization, SLA attainment and incidents of the compute being sold. */
@Controller('v1')
export class MonitoringController {
  constructor(private readonly monitoring: MonitoringService) {}

  /**
   * Operators: every listed resource.
   *
   * @summary Monitor every resource (operators)
   */
  @Roles('operator')
  @Get('admin/monitoring/resources')
  async resources(@Query() q: unknown): Promise<{ items: ResourceMonitoringView[] }> {
    const { windowHours } = parseInput(windowHoursQuery, q);
    return { items: await this.monitoring.resources({ windowHours }) };
  }

  /**
   * Operators: per seller, aggregated.
   *
   * @summary Monitor sellers (operators)
   */
  @Roles('operator')
  @Get('admin/monitoring/sellers')
  async sellers(@Query() q: unknown): Promise<{ items: SellerMonitoringView[] }> {
    const { windowHours } = parseInput(windowHoursQuery, q);
    return { items: await this.monitoring.sellers({ windowHours }) };
  }

  /**
   * Sellers: their own resources.
   *
   * @summary Monitor the seller's resources
   */
  @Roles('seller')
  @Get('monitoring/resources')
  async mine(
    @CurrentPrincipal() p: Principal,
    @Query() q: unknown,
  ): Promise<{ items: ResourceMonitoringView[] }> {
    const { windowHours } = parseInput(windowHoursQuery, q);
    return { items: await this.monitoring.resources({ sellerOrgId: p.orgId, windowHours }) };
  }
}
