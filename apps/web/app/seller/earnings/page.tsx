import type { Metadata } from 'next';
import { ErrorBox } from '@/components/error-box';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { connectPayouts } from '@/lib/payment-actions';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.payments.earningsHeading };
}

export default async function EarningsPage() {
  const result = await loadForBuyer((api) => api.GET('/v1/earnings'), '/seller/earnings');
  const { lang, t } = await getI18n();
  const p = t.payments;
  return (
    <>
      <section className="page-head">
        <h1>{p.earningsHeading}</h1>
        <p className="lead">{p.earningsIntro}</p>
      </section>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : (
        <>
          <div className="balances">
            {result.data.balances.map((b) => (
              <section key={b.currency} className="card balance">
                <h2>{b.currency}</h2>
                <dl className="facts">
                  <dt>{p.payable}</dt>
                  <dd className="amount big">{formatMoney(b.payable, b.currency)}</dd>
                </dl>
              </section>
            ))}
          </div>
          <p className="muted small">{p.payoutMinimum(result.data.payoutMinimum)}</p>
          {result.data.connectAccountId ? (
            <p className="mono small">{p.connected(result.data.connectAccountId)}</p>
          ) : (
            <form action={connectPayouts}>
              <button type="submit" className="button">
                {p.connect}
              </button>
            </form>
          )}
          <h2>{p.payouts}</h2>
          {result.data.payouts.length === 0 ? (
            <p className="empty">{p.noPayouts}</p>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{p.created}</th>
                    <th scope="col" className="num">
                      {p.amount}
                    </th>
                    <th scope="col">{p.reference}</th>
                    <th scope="col">{p.stripeId}</th>
                  </tr>
                </thead>
                <tbody>
                  {result.data.payouts.map((x) => (
                    <tr key={x.id}>
                      <td>{formatDateTime(x.createdAt, lang)}</td>
                      <td className="num amount">{formatMoney(x.amount, x.currency)}</td>
                      <td className="mono small">{x.reference}</td>
                      <td className="mono small">{x.stripeId ?? p.notSent}</td>
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
