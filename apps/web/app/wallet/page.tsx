import type { Metadata } from 'next';
import { randomUUID } from 'node:crypto';
import { ErrorBox } from '@/components/error-box';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { startTopUp } from '@/lib/payment-actions';
import { getSession } from '@/lib/session';
import { call, marketApi } from '@/lib/client';

interface Props {
  /** `topup=success` after a test-mode credit; `top-up=<id>&status=…` back from Stripe Checkout. */
  searchParams: Promise<{ topup?: string; 'top-up'?: string; status?: string }>;
}

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.wallet.heading };
}

export default async function WalletPage({ searchParams }: Props) {
  const result = await loadForBuyer((api) => api.GET('/v1/wallet'), '/wallet');
  const { lang, t } = await getI18n();
  const p = t.payments;
  const session = await getSession();
  const topUps = session ? await call(marketApi(session.token).GET('/v1/wallet/top-ups')) : null;
  const items = topUps?.ok ? topUps.data.items : [];
  const sp = await searchParams;
  // Back from Checkout: credited once Stripe's webhook has confirmed the payment, else pending.
  const returned = sp['top-up'] ? items.find((i) => i.id === sp['top-up']) : undefined;
  const notice =
    sp.topup === 'success' || (sp.status === 'success' && returned?.status === 'paid')
      ? p.toppedUp
      : sp.status === 'success'
        ? p.pending
        : sp.status === 'cancelled'
          ? p.cancelled
          : null;
  return (
    <>
      <section className="page-head">
        <h1>{t.wallet.heading}</h1>
        <p className="lead">{t.wallet.intro}</p>
      </section>
      {notice ? (
        <p className="notice" role="status" data-testid="topup-notice">
          {notice}
        </p>
      ) : null}
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.balances.length === 0 ? (
        <p className="empty">{t.wallet.empty}</p>
      ) : (
        <div className="balances">
          {result.data.balances.map((b) => (
            <section key={b.currency} className="card balance">
              <h2>{b.currency}</h2>
              <dl className="facts">
                <dt>{t.wallet.available}</dt>
                <dd className="amount big" data-testid={`available-${b.currency}`}>
                  {formatMoney(b.available, b.currency)}
                </dd>
                <dt>{t.wallet.held}</dt>
                <dd className="amount">{formatMoney(b.held, b.currency)}</dd>
                <dt>{t.wallet.total}</dt>
                <dd className="amount">{formatMoney(b.total, b.currency)}</dd>
              </dl>
            </section>
          ))}
        </div>
      )}

      <section className="card">
        <h2>{p.topUpHeading}</h2>
        <p className="muted">{p.topUpIntro}</p>
        {items.some((i) => i.testMode) ? <p className="muted small">{p.testModeNote}</p> : null}
        <form action={startTopUp} className="inline-form" data-testid="topup-form">
          <input type="hidden" name="idempotencyKey" value={randomUUID()} />
          <label>
            {p.amount}{' '}
            <input
              name="amount"
              inputMode="decimal"
              pattern="\d{1,9}(\.\d{1,2})?"
              required
              defaultValue="100.00"
            />
          </label>{' '}
          <label>
            {p.currency}{' '}
            <select name="currency" defaultValue="CNY">
              <option value="CNY">CNY</option>
              <option value="USD">USD</option>
            </select>
          </label>{' '}
          <button type="submit" className="button">
            {p.topUp}
          </button>
        </form>
      </section>

      {items.length > 0 ? (
        <section>
          <h2>{p.topUps}</h2>
          <div className="table-wrap">
            <table className="table" data-testid="topups">
              <thead>
                <tr>
                  <th scope="col">{p.created}</th>
                  <th scope="col" className="num">
                    {p.amount}
                  </th>
                  <th scope="col">{p.status}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <tr key={i.id} data-top-up-id={i.id} data-status={i.status}>
                    <td>{formatDateTime(i.createdAt, lang)}</td>
                    <td className="num amount">{formatMoney(i.amount, i.currency)}</td>
                    <td>
                      {p.statuses[i.status] ?? i.status} · {p.providers[i.provider] ?? i.provider}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </>
  );
}
