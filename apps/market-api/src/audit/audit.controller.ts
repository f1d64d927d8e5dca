import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from '../auth/auth.decorators.js';
import { parseInput } from '../common/validation.js';
import { auditQuerySchema, type AuditEventPage } from './audit.contracts.js';
import { AuditService } from './audit.service.js';

@Controller('v1/admin')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /**
   * The audit log, newest first: log-ins, API keys, role changes, payouts, fee changes…
   *
   * @summary List audit events (operators)
   */
  @Roles('operator')
  @Get('audit-events')
  events(@Query() q: unknown): Promise<AuditEventPage> {
    return this.audit.query(parseInput(auditQuerySchema, q));
  }
}
