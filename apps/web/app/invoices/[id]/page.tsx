import type { Metadata } from 'next';
import Link from 'next/link';
import type { InvoiceView } from '@suanli/contracts';
import { ErrorBox } from '@/components/error-box';
import { unitLabel } from '@/components/offer-bits';
import { ProofSection } from '@/components/proof-section';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatDecimal, formatMoney, isZero } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import type { Answer } from '@/lib/client';

interface Props {
  params: Promise<{ id: string }>;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.invoices.invoice };
}

export default async function InvoicePage({ params }: Props) {
  const { id } = await params;
  const { lang, t } = await getI18n();
  const back = (
    <p className="crumbs">
      <Link href="/invoices">← {t.invoices.back}</Link>
    </p>
  );
  if (!SAFE_ID.test(id)) {
    return (
      <>
        {back}
        <ErrorBox error={{ code: 'not_found', message: '' }} labels={t.errors} />
      </>
    );
  }
  const result = await loadForBuyer(
    // The same path also serves `.pdf` and `.csv` (strings); this page asks for the JSON.
    (api) =>
      api.GET('/v1/invoices/{ref}', { params: { path: { ref: id } } }) as Promise<
        Answer<
          InvoiceView & {
            sla?: { availability: string; target: string; creditPercent: string } | null;
          }
        >
      >,
    `/invoices/${id}`,
  );
  if (!result.ok) {
    return (
      <>
        {back}
        <ErrorBox error={result.error} labels={t.errors} />
      </>
    );
  }
  const inv = result.data;
  const money = (amount: string) => formatMoney(amount, inv.currency);

  return (
    <>
      {back}
      <article className="card invoice">
        <header className="invoice-head">
          <div>
            <div className="muted small">{t.invoices.invoice}</div>
            <h1 className="mono" data-testid="invoice-number">
              {inv.number}
            </h1>
          </div>
          <div className="invoice-total-box">
            <div className="muted small">{t.invoices.total}</div>
            <div className="big amount">{money(inv.total)}</div>
          </div>
        </header>
        <dl className="facts facts-inline">
          <dt>{t.invoices.period}</dt>
          <dd>
            {t.invoices.periodRange(
              formatDateTime(inv.periodStart, lang),
              formatDateTime(inv.periodEnd, lang),
            )}
          </dd>
          <dt>{t.invoices.issued}</dt>
          <dd>{formatDateTime(inv.issuedAt, lang)}</dd>
          <dt>{t.invoices.lease}</dt>
          <dd className="mono">{inv.leaseId}</dd>
        </dl>

        <h2>{t.invoices.lines}</h2>
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t.invoices.description}</th>
                <th scope="col">{t.invoices.unit}</th>
                <th scope="col" className="num">
                  {t.invoices.quantity}
                </th>
                <th scope="col" className="num">
                  {t.invoices.unitPrice}
                </th>
                <th scope="col" className="num">
                  {t.invoices.amount}
                </th>
              </tr>
            </thead>
            <tbody>
              {inv.lines.length === 0 ? (
                <tr>
                  <td colSpan={5} className="muted">
                    {t.invoices.noLines}
                  </td>
                </tr>
              ) : (
                inv.lines.map((line, i) => (
                  <tr key={`${line.unit}-${i}`}>
                    <td>{line.description}</td>
                    <td>{unitLabel(line.unit, t)}</td>
                    <td className="num">{formatDecimal(line.quantity)}</td>
                    <td className="num amount">{money(line.unitPrice)}</td>
                    <td className="num amount">{money(line.amount)}</td>
                  </tr>
                ))
              )}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={4} className="num">
                  {t.invoices.subtotal}
                </th>
                <td className="num amount">{money(inv.subtotal)}</td>
              </tr>
              <tr>
                <th scope="row" colSpan={4} className="num">
                  {t.invoices.credits}
                </th>
                <td className="num amount">
                  {isZero(inv.credits) || inv.credits.startsWith('-')
                    ? money(inv.credits)
                    : money(`-${inv.credits}`)}
                </td>
              </tr>
              <tr className="grand-total">
                <th scope="row" colSpan={4} className="num">
                  {t.invoices.total}
                </th>
                <td className="num amount" data-testid="invoice-total" data-amount={inv.total}>
                  {money(inv.total)}
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
        {inv.sla ? (
          <p className="muted small" data-testid="invoice-sla">
            {t.payments.sla}:{' '}
            {t.payments.slaLine(inv.sla.availability, inv.sla.target, inv.sla.creditPercent)}
          </p>
        ) : null}
        <p className="downloads">
          {t.payments.download}:{' '}
          <a href={`/invoices/${inv.id}/download?format=pdf`} data-testid="download-pdf" download>
            {t.payments.pdf}
          </a>{' '}
          ·{' '}
          <a href={`/invoices/${inv.id}/download?format=csv`} data-testid="download-csv" download>
            {t.payments.csv}
          </a>{' '}
          ·{' '}
          <a href="#verify" data-testid="verify-invoice">
            {t.j.invoice.verify}
          </a>
        </p>
        {inv.debitNotes.length > 0 ? (
          <p className="muted small">
            {t.invoices.debitNotes}:{' '}
            {inv.debitNotes.map((d) => (
              <code key={d} className="chip">
                {d.slice(0, 8)}
              </code>
            ))}
          </p>
        ) : null}
      </article>
      <div className="invoice">
        <ProofSection invoice={inv} t={t.privacy.proof} lang={lang} />
      </div>
    </>
  );
}
