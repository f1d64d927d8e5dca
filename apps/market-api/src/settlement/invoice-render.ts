import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { InvoiceDocument } from './invoices.service.js';

// Invoice documents as CSV (RFC 4180) and PDF. The PDF uses the standard Helvetica font, so it
// carries Latin/ASCII text only (no font file is shipped or downloaded); the Chinese labels are
// shown in the storefront's HTML view of the invoice.

const csvCell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csvRow = (cells: readonly string[]): string => cells.map(csvCell).join(',');

/** The invoice as CSV: a header block (field,value), a blank line, then the line items. */
export function invoiceCsv(doc: InvoiceDocument): string {
  const buyerLabel = doc.copy === 'seller' ? 'buyer_pseudonym' : 'buyer_org_id';
  const header: [string, string][] = [
    ['invoice', doc.number],
    ['invoice_id', doc.id],
    ['lease_id', doc.leaseId],
    [buyerLabel, doc.buyerOrgId],
    ['currency', doc.currency],
    ['period_start', doc.periodStart],
    ['period_end', doc.periodEnd],
    ['issued_at', doc.issuedAt],
    ['subtotal', doc.subtotal],
    ['credits', doc.credits],
    ['total', doc.total],
    ['platform_fee', doc.fee],
  ];
  if (doc.sla) {
    header.push(
      ['availability_percent', doc.sla.availability],
      ['sla_target_percent', doc.sla.target],
      ['sla_credit_percent', doc.sla.creditPercent],
    );
  }
  const rows = [
    csvRow(['field', 'value']),
    ...header.map((r) => csvRow(r)),
    '',
    csvRow(['description', 'unit', 'quantity', 'unit_price', 'amount']),
    ...doc.lines.map((l) => csvRow([l.description, l.unit, l.quantity, l.unitPrice, l.amount])),
  ];
  return `${rows.join('\r\n')}\r\n`;
}

/** Keeps what Helvetica (WinAnsi) can draw; anything else becomes '?'. */
const ascii = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?');

/** The invoice as a one-or-more-page A4 PDF. */
export async function invoicePdf(doc: InvoiceDocument): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(`Invoice ${doc.number}`);
  pdf.setProducer('Suanli Exchange');
  pdf.setCreator('Suanli Exchange');
  pdf.setCreationDate(new Date(doc.issuedAt));
  pdf.setModificationDate(new Date(doc.issuedAt));
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const writer = new PageWriter(pdf, font, bold);

  writer.text('Suanli Exchange - Invoice', { size: 18, bold: true });
  writer.gap(6);
  const buyerLabel = doc.copy === 'seller' ? 'Buyer (pseudonym)' : 'Buyer';
  for (const [k, v] of [
    ['Invoice', doc.number],
    ['Lease', doc.leaseId],
    [buyerLabel, doc.buyerOrgId],
    ['Period', `${doc.periodStart} to ${doc.periodEnd}`],
    ['Issued', doc.issuedAt],
    ['Currency', doc.currency],
  ] as const) {
    writer.columns([
      [k, 0, true],
      [v, 130, false],
    ]);
  }
  writer.gap(10);
  const cols = [0, 230, 300, 380, 450];
  writer.columns(
    ['Description', 'Unit', 'Quantity', 'Unit price', 'Amount'].map(
      (t, i) => [t, cols[i], true] as const,
    ),
  );
  for (const l of doc.lines) {
    writer.columns(
      [l.description, l.unit, l.quantity, l.unitPrice, l.amount].map(
        (t, i) => [t, cols[i], false] as const,
      ),
    );
  }
  writer.gap(10);
  const totals: [string, string][] = [
    ['Subtotal', doc.subtotal],
    ['SLA credits', doc.credits],
    ['Total', `${doc.total} ${doc.currency}`],
  ];
  for (const [k, v] of totals) {
    writer.columns([
      [k, 300, true],
      [v, 450, k === 'Total'],
    ]);
  }
  if (doc.sla) {
    writer.gap(10);
    writer.text(
      `Availability ${doc.sla.availability} % (${doc.sla.availableMinutes} of ${doc.sla.activeMinutes} minutes), ` +
        `target ${doc.sla.target} %, credit ${doc.sla.creditPercent} %`,
      { size: 9 },
    );
  }
  writer.gap(10);
  writer.text(`Platform fee included in the subtotal: ${doc.fee} ${doc.currency}`, { size: 9 });
  return pdf.save({ useObjectStreams: false });
}

const MARGIN = 50;
const LINE = 16;

class PageWriter {
  private page: PDFPage;
  private y: number;

  constructor(
    private readonly pdf: PDFDocument,
    private readonly font: PDFFont,
    private readonly bold: PDFFont,
  ) {
    this.page = pdf.addPage([595.28, 841.89]);
    this.y = this.page.getHeight() - MARGIN;
  }

  gap(h: number): void {
    this.y -= h;
  }

  text(s: string, opts: { size?: number; bold?: boolean } = {}): void {
    const size = opts.size ?? 10;
    this.room(size + 6);
    this.page.drawText(ascii(s), {
      x: MARGIN,
      y: this.y,
      size,
      font: opts.bold ? this.bold : this.font,
      color: rgb(0, 0, 0),
    });
    this.y -= size + 6;
  }

  columns(cells: readonly (readonly [string, number, boolean])[]): void {
    this.room(LINE);
    for (const [s, x, isBold] of cells) {
      this.page.drawText(ascii(s), {
        x: MARGIN + x,
        y: this.y,
        size: 9,
        font: isBold ? this.bold : this.font,
        maxWidth: 225,
      });
    }
    this.y -= LINE;
  }

  private room(h: number): void {
    if (this.y - h > MARGIN) return;
    this.page = this.pdf.addPage([595.28, 841.89]);
    this.y = this.page.getHeight() - MARGIN;
  }
}
