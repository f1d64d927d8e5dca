import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorBox } from '@/components/error-box';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { criHref } from '@/lib/params';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.leases.heading };
}

export default async function LeasesPage() {
  const result = await loadForBuyer((api) => api.GET('/v1/leases'), '/leases');
  const { lang, t } = await getI18n();
  return (
    <>
      <section className="page-head">
        <h1>{t.leases.heading}</h1>
      </section>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{t.leases.empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t.leases.lease}</th>
                <th scope="col">{t.leases.cri}</th>
                <th scope="col" className="num">
                  {t.leases.slots}
                </th>
                <th scope="col">{t.leases.state}</th>
                <th scope="col">{t.leases.starts}</th>
                <th scope="col">{t.leases.ends}</th>
                <th scope="col">{t.leases.ended}</th>
              </tr>
            </thead>
            <tbody>
              {result.data.items.map((lease) => (
                <tr key={lease.id}>
                  <td>
                    <Link href={`/leases/${lease.id}`} data-testid="lease-link">
                      <code title={lease.id}>{lease.id.slice(0, 8)}</code>
                    </Link>
                    <div className="small">
                      <Link href={`/offers/${lease.offerId}`}>{t.leases.offer}</Link>
                    </div>
                  </td>
                  <td>
                    <Link href={criHref(lease.cri)} className="mono">
                      {lease.cri}
                    </Link>
                  </td>
                  <td className="num">{lease.slots}</td>
                  <td>
                    <span className={`badge badge-${lease.state}`}>
                      {t.leases.states[lease.state] ?? lease.state}
                    </span>
                  </td>
                  <td className="nowrap">{formatDateTime(lease.startsAt, lang)}</td>
                  <td className="nowrap">{formatDateTime(lease.endsAt, lang)}</td>
                  <td className="nowrap">
                    {lease.endedAt ? formatDateTime(lease.endedAt, lang) : '—'}
                    {lease.endReason ? (
                      <div className="muted small">
                        {t.leases.endReasons[lease.endReason] ?? lease.endReason}
                      </div>
                    ) : null}
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
