import type { Metadata } from 'next';
import Link from 'next/link';
import { DLQ_REASONS, type DlqReason } from '@suanli/contracts';
import { ErrorBox } from '@/components/error-box';
import { unitLabel } from '@/components/offer-bits';
import { totalsOf, UsageChart } from '@/components/usage-chart';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatDecimal } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { criHref } from '@/lib/params';

interface Props {
  searchParams: Promise<{ reason?: string; cursor?: string }>;
}

// The closed set of dead-letter reasons (docs/metering.md), declared once in the contracts.
const REASONS: readonly string[] = DLQ_REASONS;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.usage.sellerHeading };
}

export default async function SellerUsagePage({ searchParams }: Props) {
  const { reason, cursor } = await searchParams;
  const { lang, t } = await getI18n();
  const u = t.usage;
  const resources = await loadForBuyer((api) => api.GET('/v1/resources'), '/seller/usage');
  const usage = resources.ok
    ? await Promise.all(
        resources.data.items.map((r) =>
          loadForBuyer(
            (api) =>
              api.GET('/v1/resources/{id}/usage', {
                params: { path: { id: r.id }, query: { granularity: 'hour' } },
              }),
            '/seller/usage',
          ),
        ),
      )
    : [];
  const query = {
    limit: 50,
    ...(reason && REASONS.includes(reason) ? { reason: reason as DlqReason } : {}),
    ...(cursor && /^\d+$/.test(cursor) ? { cursor } : {}),
  };
  const dead = await loadForBuyer(
    (api) => api.GET('/v1/usage/dead-letters', { params: { query } }),
    '/seller/usage',
  );
  return (
    <>
      <section className="page-head">
        <h1>{u.sellerHeading}</h1>
        <p className="lead">{u.sellerIntro}</p>
      </section>
      {!resources.ok ? (
        <ErrorBox error={resources.error} labels={t.errors} />
      ) : resources.data.items.length === 0 ? (
        <p className="empty">{t.sellerResources.empty}</p>
      ) : (
        resources.data.items.map((r, i) => {
          const result = usage[i];
          const points = result?.ok ? result.data.items : [];
          return (
            <section className="card" key={r.id} data-testid="resource-usage">
              <h2>
                {r.name}{' '}
                <Link href={criHref(r.cri)} className="mono small">
                  {r.cri}
                </Link>
              </h2>
              {result && !result.ok ? (
                <ErrorBox error={result.error} labels={t.errors} />
              ) : (
                <UsageChart
                  points={points}
                  labels={{ empty: u.empty, chart: u.chartHeading }}
                  unitLabel={(unit) => unitLabel(unit, t)}
                  lang={lang}
                />
              )}
              {points.length > 0 ? (
                <p className="small">
                  {totalsOf(points)
                    .map((row) => `${unitLabel(row.unit, t)} ${formatDecimal(row.quantity)}`)
                    .join(' · ')}
                </p>
              ) : null}
            </section>
          );
        })
      )}

      <section className="card">
        <h2>{u.deadLetters}</h2>
        <p className="small">
          {[undefined, ...REASONS].map((r) => (
            <span key={r ?? 'all'} style={{ marginRight: '0.75em' }}>
              {r === reason || (r === undefined && !reason) ? (
                <strong>{r ? (u.reasons[r] ?? r) : u.allReasons}</strong>
              ) : (
                <Link href={r ? `?reason=${r}` : '?'}>
                  {r ? (u.reasons[r] ?? r) : u.allReasons}
                </Link>
              )}
            </span>
          ))}
        </p>
        {!dead.ok ? (
          <ErrorBox error={dead.error} labels={t.errors} />
        ) : dead.data.items.length === 0 ? (
          <p className="empty">{u.noDeadLetters}</p>
        ) : (
          <div className="table-wrap">
            <table className="table compact" data-testid="dead-letters">
              <thead>
                <tr>
                  <th scope="col">{u.when}</th>
                  <th scope="col">{u.reason}</th>
                  <th scope="col">{u.detail}</th>
                  <th scope="col">{u.agent}</th>
                  <th scope="col">{u.lease}</th>
                  <th scope="col">{u.event}</th>
                </tr>
              </thead>
              <tbody>
                {dead.data.items.map((d) => (
                  <tr key={d.id}>
                    <td className="nowrap">{formatDateTime(d.createdAt, lang)}</td>
                    <td>
                      <span className="badge">{u.reasons[d.reason] ?? d.reason}</span>
                    </td>
                    <td className="small">{d.detail}</td>
                    <td className="mono small">
                      {d.agentId ?? '—'}
                      {d.seq !== null ? ` #${d.seq}` : ''}
                    </td>
                    <td className="mono small">{d.leaseId ? d.leaseId.slice(0, 8) : '—'}</td>
                    <td className="mono small">{d.eventId ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {dead.ok && dead.data.nextCursor ? (
          <p>
            <Link
              href={`?${new URLSearchParams({ ...(reason ? { reason } : {}), cursor: dead.data.nextCursor })}`}
            >
              {u.older} →
            </Link>
          </p>
        ) : null}
      </section>
    </>
  );
}
