import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import type { DebitNoteView, InvoiceView, Page } from '@suanli/contracts';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { InvoicesService } from './invoices.service.js';

@Controller('v1')
export class InvoicesController {
  constructor(private readonly invoices: InvoicesService) {}

  /** Buyers: their own invoices. Sellers: invoices on their resources, buyer pseudonymized. */
  @Roles('buyer', 'seller')
  @Get('invoices')
  list(@CurrentPrincipal() p: Principal): Promise<Page<InvoiceView>> {
    return this.invoices.list(p);
  }

  @Roles('buyer', 'seller')
  @Get('invoices/:id')
  get(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<InvoiceView> {
    return this.invoices.get(p, id);
  }

  @Roles('buyer', 'seller')
  @Get('leases/:id/debit-notes')
  debitNotes(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<Page<DebitNoteView>> {
    return this.invoices.debitNotes(p, id);
  }
}
