import type { Metadata } from 'next';
import type { WalletView } from '@suanli/contracts';
import { ErrorBox } from '@/components/error-box';
import { loadForBuyer } from '@/lib/buyer';
import { formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.wallet.heading };
}

export default async function WalletPage() {
  const result = await loadForBuyer<WalletView>('/v1/wallet', '/wallet');
  const { t } = await getI18n();
  return (
    <>
      <section className="page-head">
        <h1>{t.wallet.heading}</h1>
        <p className="lead">{t.wallet.intro}</p>
      </section>
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
                <dd className="amount big">{formatMoney(b.available, b.currency)}</dd>
                <dt>{t.wallet.held}</dt>
                <dd className="amount">{formatMoney(b.held, b.currency)}</dd>
                <dt>{t.wallet.total}</dt>
                <dd className="amount">{formatMoney(b.total, b.currency)}</dd>
              </dl>
            </section>
          ))}
        </div>
      )}
    </>
  );
}
