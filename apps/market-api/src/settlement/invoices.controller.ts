import { Controller, Get, Param, ParseUUIDPipe, Query, StreamableFile } from '@nestjs/common';
import type { DebitNoteView, Page } from '@suanli/contracts';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { DomainError } from '../common/errors.js';
import { invoiceCsv, invoicePdf } from './invoice-render.js';
import { InvoicesService, type InvoiceDocument } from './invoices.service.js';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const INVOICE_REF = new RegExp(`^(${UUID})(?:\\.(json|csv|pdf))?$`);
type Format = 'json' | 'csv' | 'pdf';

/** `<uuid>`, `<uuid>.csv`, `<uuid>.pdf` (the suffix wins over `?format=`). */
function parseRef(ref: string, format: string | undefined): { id: string; format: Format } {
  const m = INVOICE_REF.exec(ref);
  const f = m?.[2] ?? format ?? 'json';
  if (!m || (f !== 'json' && f !== 'csv' && f !== 'pdf')) {
    throw new DomainError(
      'validation_failed',
      'expected /v1/invoices/<uuid>[.json|.csv|.pdf] and format json, csv or pdf',
      400,
      { ref, format },
    );
  }
  return { id: m[1].toLowerCase(), format: f };
}

@Controller('v1')
export class InvoicesController {
  constructor(private readonly invoices: InvoicesService) {}

  /**
   * Buyers: their own invoices. Sellers: invoices on their resources, buyer pseudonymized.
   *
   * @summary List invoices
   */
  @Roles('buyer', 'seller')
  @Get('invoices')
  list(@CurrentPrincipal() p: Principal): Promise<Page<InvoiceDocument>> {
    return this.invoices.list(p);
  }

  /**
   * One invoice as JSON, CSV or PDF (`/v1/invoices/<id>.pdf` or `?format=pdf`).
   *
   * @summary Get an invoice (JSON, CSV or PDF)
   * @param ref The invoice's id (a UUID), optionally with a format suffix: `<id>.json`, `<id>.csv`
   * or `<id>.pdf` (the suffix wins over `format`).
   * @param formatQuery The representation when `ref` has no suffix: `json` (default), `csv` or
   * `pdf`.
   */
  @Roles('buyer', 'seller')
  @Get('invoices/:ref')
  async get(
    @CurrentPrincipal() p: Principal,
    @Param('ref') ref: string,
    @Query('format') formatQuery: string | undefined,
  ): Promise<InvoiceDocument | StreamableFile> {
    const { id, format } = parseRef(ref, formatQuery);
    const doc = await this.invoices.get(p, id);
    if (format === 'json') return doc;
    const name = `${doc.number}${doc.copy === 'seller' ? '-seller' : ''}.${format}`;
    const disposition = `attachment; filename="${name}"`;
    if (format === 'csv') {
      return new StreamableFile(Buffer.from(invoiceCsv(doc), 'utf8'), {
        type: 'text/csv; charset=utf-8',
        disposition,
      });
    }
    return new StreamableFile(Buffer.from(await invoicePdf(doc)), {
      type: 'application/pdf',
      disposition,
    });
  }

  /**
   * The lease's debit notes: each settlement period's metered quantities, prices and amounts,
   * charged to the buyer's wallet. For the buyer and the seller of the lease.
   *
   * @summary List a lease's debit notes
   * @param id The lease's id (a UUID).
   */
  @Roles('buyer', 'seller')
  @Get('leases/:id/debit-notes')
  debitNotes(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<Page<DebitNoteView>> {
    return this.invoices.debitNotes(p, id);
  }
}
