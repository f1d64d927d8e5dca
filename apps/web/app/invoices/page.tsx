import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorBox } from '@/components/error-box';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.invoices.heading };
}

export default async function InvoicesPage() {
  const result = await loadForBuyer((api) => api.GET('/v1/invoices'), '/invoices');
  const { lang, t } = await getI18n();
  return (
    <>
      <section className="page-head">
        <h1>{t.invoices.heading}</h1>
      </section>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{t.invoices.empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t.invoices.number}</th>
                <th scope="col">{t.invoices.period}</th>
                <th scope="col">{t.invoices.issued}</th>
                <th scope="col" className="num">
                  {t.invoices.total}
                </th>
                <th scope="col">
                  <span className="sr-only">{t.invoices.view}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {result.data.items.map((inv) => (
                <tr key={inv.id}>
                  <td>
                    <Link href={`/invoices/${inv.id}`} className="mono">
                      {inv.number}
                    </Link>
                  </td>
                  <td>
                    {t.invoices.periodRange(
                      formatDateTime(inv.periodStart, lang),
                      formatDateTime(inv.periodEnd, lang),
                    )}
                  </td>
                  <td>{formatDateTime(inv.issuedAt, lang)}</td>
                  <td className="num amount">{formatMoney(inv.total, inv.currency)}</td>
                  <td>
                    <Link href={`/invoices/${inv.id}`} className="button button-small button-ghost">
                      {t.invoices.view}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
