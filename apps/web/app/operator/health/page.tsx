import type { Metadata } from 'next';
import { ErrorBox } from '@/components/error-box';
import { OperatorNav } from '@/components/operator-nav';
import { call, marketApi } from '@/lib/client';
import { formatDecimal } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { requireSession } from '@/lib/session';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.health.heading };
}

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

/** /health/ready answers 503 with the same body when a dependency is down. */
async function readiness(): Promise<Readiness | null> {
  try {
    const answer = await marketApi().GET('/health/ready');
    const body = (answer.data ?? answer.error) as Partial<Readiness> | undefined;
    if (!body || typeof body.status !== 'string') return null;
    return { status: body.status, checks: body.checks ?? {} };
  } catch {
    return null;
  }
}

export default async function HealthPage() {
  const session = await requireSession('/operator/health');
  const { t } = await getI18n();
  const h = t.j.health;
  const [ready, balance] = await Promise.all([
    readiness(),
    call(marketApi(session.token).GET('/v1/admin/ledger/trial-balance')),
  ]);
  const up = ready?.status === 'ok';
  return (
    <>
      <section className="page-head">
        <h1>{h.heading}</h1>
        <p className="lead">{h.intro}</p>
      </section>
      <OperatorNav t={t} current="health" />
      <div className="two-col">
        <section className="card">
          <h2>
            {h.status}:{' '}
            <span className={`badge ${up ? 'badge-ok' : 'badge-bad'}`} data-testid="health-status">
              {up ? h.ok : h.down}
            </span>
          </h2>
          {ready ? (
            <table className="table" data-testid="health-checks">
              <thead>
                <tr>
                  <th scope="col">{h.check}</th>
                  <th scope="col">{h.detail}</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(ready.checks).map(([name, value]) => (
                  <tr key={name}>
                    <td>{name}</td>
                    <td>
                      <span className={`badge ${value === 'ok' ? 'badge-ok' : 'badge-bad'}`}>
                        {value === 'ok' ? h.ok : value}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="notice notice-error" role="alert">
              {t.errors.unavailable}
            </p>
          )}
        </section>
        <section className="card">
          <h2>
            {h.trialBalance}
            {balance.ok ? (
              <>
                :{' '}
                <span
                  className={`badge ${balance.data.balanced ? 'badge-ok' : 'badge-bad'}`}
                  data-testid="trial-balance"
                >
                  {balance.data.balanced ? h.balanced : h.unbalanced}
                </span>
              </>
            ) : null}
          </h2>
          {!balance.ok ? (
            <ErrorBox error={balance.error} labels={t.errors} />
          ) : balance.data.currencies.length === 0 ? (
            <p className="empty">{h.balanced}</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{h.currency}</th>
                  <th scope="col" className="num">
                    {h.entries}
                  </th>
                  <th scope="col" className="num">
                    {h.balances}
                  </th>
                </tr>
              </thead>
              <tbody>
                {balance.data.currencies.map((c) => (
                  <tr key={c.currency}>
                    <td>{c.currency}</td>
                    <td className="num amount">{formatDecimal(c.entries)}</td>
                    <td className="num amount">{formatDecimal(c.balances)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </>
  );
}
