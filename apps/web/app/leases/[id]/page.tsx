import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorBox } from '@/components/error-box';
import { unitLabel } from '@/components/offer-bits';
import { totalsOf, UsageChart } from '@/components/usage-chart';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatDecimal } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { criHref } from '@/lib/params';
import { AutoRefresh } from './auto-refresh';

interface Props {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ granularity?: string }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REFRESH_SECONDS = 15;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.usage.leaseHeading };
}

export default async function LeasePage({ params, searchParams }: Props) {
  const { id } = await params;
  const granularity = (await searchParams).granularity === 'hour' ? 'hour' : 'minute';
  const { lang, t } = await getI18n();
  const u = t.usage;
  if (!UUID.test(id)) {
    return <ErrorBox error={{ code: 'not_found', message: '' }} labels={t.errors} />;
  }
  const lease = await loadForBuyer(
    (api) => api.GET('/v1/leases/{id}', { params: { path: { id } } }),
    `/leases/${id}`,
  );
  if (!lease.ok) return <ErrorBox error={lease.error} labels={t.errors} />;
  const usage = await loadForBuyer(
    (api) =>
      api.GET('/v1/leases/{id}/usage', {
        // The OpenAPI document does not list this query yet.
        params: { path: { id }, query: { granularity } as never },
      }),
    `/leases/${id}`,
  );
  const l = lease.data;
  const points = usage.ok ? usage.data.items : [];
  return (
    <>
      <p className="crumbs">
        <Link href="/leases">← {t.leases.heading}</Link>
      </p>
      <section className="page-head">
        <h1>
          {u.leaseHeading} <code>{l.id.slice(0, 8)}</code>{' '}
          <span className={`badge badge-${l.state}`}>{t.leases.states[l.state] ?? l.state}</span>
        </h1>
        <p className="lead">
          <Link href={criHref(l.cri)} className="mono">
            {l.cri}
          </Link>
        </p>
      </section>
      <div className="grid">
        <section className="card">
          <dl className="facts">
            <dt>{t.leases.slots}</dt>
            <dd>{l.slots}</dd>
            <dt>{t.leases.starts}</dt>
            <dd>{formatDateTime(l.startsAt, lang)}</dd>
            <dt>{t.leases.ends}</dt>
            <dd>{formatDateTime(l.endsAt, lang)}</dd>
            <dt>{u.catalog}</dt>
            <dd>{l.catalogVersion}</dd>
          </dl>
        </section>
        <section className="card" style={{ gridColumn: 'span 2' }}>
          <h2>{u.chartHeading}</h2>
          <p className="small">
            {granularity === 'minute' ? (
              <>
                <strong>{u.perMinute}</strong> · <Link href="?granularity=hour">{u.perHour}</Link>
              </>
            ) : (
              <>
                <Link href="?granularity=minute">{u.perMinute}</Link> · <strong>{u.perHour}</strong>
              </>
            )}{' '}
            · <span className="muted">{u.refreshes(REFRESH_SECONDS)}</span>
          </p>
          {!usage.ok ? (
            <ErrorBox error={usage.error} labels={t.errors} />
          ) : (
            <UsageChart
              points={points}
              labels={{ empty: u.empty, chart: u.chartHeading }}
              unitLabel={(unit) => unitLabel(unit, t)}
              lang={lang}
            />
          )}
          {points.length > 0 ? (
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">{u.unit}</th>
                  <th scope="col" className="num">
                    {u.total}
                  </th>
                </tr>
              </thead>
              <tbody>
                {totalsOf(points).map((row) => (
                  <tr key={row.unit}>
                    <td>{unitLabel(row.unit, t)}</td>
                    <td className="num" data-testid="usage-total">
                      {formatDecimal(row.quantity)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
      </div>
      <AutoRefresh seconds={REFRESH_SECONDS} />
    </>
  );
}
