import type { Metadata } from 'next';
import { ErrorBox } from '@/components/error-box';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.payments.reconHeading };
}

export default async function ReconciliationPage() {
  const result = await loadForBuyer(
    (api) => api.GET('/v1/admin/reconciliation'),
    '/operator/reconciliation',
  );
  const { lang, t } = await getI18n();
  const p = t.payments;
  return (
    <>
      <section className="page-head">
        <h1>{p.reconHeading}</h1>
        <p className="lead">{p.reconIntro}</p>
      </section>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : (
        <>
          {result.data.testMode ? <p className="muted small">{p.testModeNote}</p> : null}
          <dl className="facts facts-inline">
            <dt>{p.ledgerMovements}</dt>
            <dd>{result.data.ledgerMovements}</dd>
            <dt>{p.stripeTransactions}</dt>
            <dd>{result.data.stripeTransactions}</dd>
            <dt>{p.matched}</dt>
            <dd>{result.data.matched}</dd>
            <dt>{p.created}</dt>
            <dd>{formatDateTime(result.data.generatedAt, lang)}</dd>
          </dl>
          <h2>{p.totals}</h2>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{p.currency}</th>
                  <th scope="col" className="num">
                    {p.ledger}
                  </th>
                  <th scope="col" className="num">
                    {p.stripe}
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.data.totals.map((x) => (
                  <tr key={x.currency}>
                    <td>{x.currency}</td>
                    <td className="num amount">{formatMoney(x.ledger, x.currency)}</td>
                    <td className="num amount">{formatMoney(x.stripe, x.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h2>{p.differences}</h2>
          {result.data.differences.length === 0 ? (
            <p className="empty">{p.noDifferences}</p>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="differences">
                <thead>
                  <tr>
                    <th scope="col">{p.kind}</th>
                    <th scope="col">{p.ledger}</th>
                    <th scope="col">{p.stripe}</th>
                  </tr>
                </thead>
                <tbody>
                  {result.data.differences.map((d, i) => (
                    <tr key={i}>
                      <td>{p.kinds[d.kind] ?? d.kind}</td>
                      <td className="mono small">
                        {'ledger' in d
                          ? `${d.ledger.reference ?? ''} ${formatMoney(d.ledger.amount, d.ledger.currency)}`
                          : '—'}
                      </td>
                      <td className="mono small">
                        {'stripe' in d
                          ? `${d.stripe.id ?? ''} ${d.stripe.source ?? ''} ${formatMoney(d.stripe.amount, d.stripe.currency)}`
                          : '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}
