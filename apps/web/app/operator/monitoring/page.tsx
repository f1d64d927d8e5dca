import type { Metadata } from 'next';
import Link from 'next/link';
import type { components } from '@suanli/api-client';
import { ErrorBox } from '@/components/error-box';
import { OperatorNav } from '@/components/operator-nav';
import { call, marketApi } from '@/lib/client';
import { formatDateTime } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { one, type SearchParams } from '@/lib/params';
import { requireSession } from '@/lib/session';

type Live = components['schemas']['LiveStatus'];

const WINDOWS = ['24', '168', '720'] as const;
const LIVE_BADGE: Record<Live, string> = {
  up: 'badge-ok',
  degraded: 'badge-degraded',
  down: 'badge-bad',
  unknown: 'badge-paused',
};

/** A 0..1 ratio as a percentage with at most two decimals (display only). */
function pct(x: number | null): string {
  return x === null ? '—' : `${(Math.round(x * 10_000) / 100).toString()} %`;
}

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.monitoring.heading };
}

export default async function MonitoringPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const session = await requireSession('/operator/monitoring');
  const sp = await searchParams;
  const windowHours = (WINDOWS as readonly string[]).includes(one(sp, 'window'))
    ? one(sp, 'window')
    : '24';
  const { lang, t } = await getI18n();
  const m = t.monitoring;
  const client = marketApi(session.token);
  const query = { windowHours: Number(windowHours) };
  const [sellers, resources] = await Promise.all([
    call(client.GET('/v1/admin/monitoring/sellers', { params: { query } })),
    call(client.GET('/v1/admin/monitoring/resources', { params: { query } })),
  ]);
  const sellerName = new Map(
    sellers.ok ? sellers.data.items.map((s) => [s.sellerOrgId, s.sellerName]) : [],
  );
  return (
    <>
      <section className="page-head">
        <h1>{m.heading}</h1>
        <p className="lead">{m.intro}</p>
      </section>
      <OperatorNav t={t} />
      <nav className="sub-nav" aria-label={m.window}>
        {WINDOWS.map((w) => (
          <Link
            key={w}
            href={`/operator/monitoring?window=${w}`}
            aria-current={w === windowHours ? 'page' : undefined}
          >
            {m.lastHours(Number(w))}
          </Link>
        ))}
      </nav>

      <section className="card">
        <h2>{m.sellers}</h2>
        {!sellers.ok ? (
          <ErrorBox error={sellers.error} labels={t.errors} />
        ) : sellers.data.items.length === 0 ? (
          <p className="empty">{m.none}</p>
        ) : (
          <table className="table" data-testid="monitoring-sellers">
            <thead>
              <tr>
                <th scope="col">{m.seller}</th>
                <th scope="col" className="num">
                  {m.resources}
                </th>
                <th scope="col">{m.status}</th>
                <th scope="col" className="num">
                  {m.utilization}
                </th>
                <th scope="col" className="num">
                  {m.slaMin}
                </th>
                <th scope="col" className="num">
                  {m.breaches}
                </th>
                <th scope="col" className="num">
                  {m.incidents}
                </th>
              </tr>
            </thead>
            <tbody>
              {sellers.data.items.map((s) => (
                <tr key={s.sellerOrgId}>
                  <td>{s.sellerName}</td>
                  <td className="num">{s.resources}</td>
                  <td>
                    {(Object.keys(s.live) as Live[])
                      .filter((k) => s.live[k] > 0)
                      .map((k) => (
                        <span key={k} className={`badge ${LIVE_BADGE[k]}`}>
                          {m.live[k]} {s.live[k]}
                        </span>
                      ))}
                  </td>
                  <td className="num">
                    {pct(s.utilization.ratio)}{' '}
                    <small>{m.slots(s.utilization.slotsLeased, s.utilization.slotsOffered)}</small>
                  </td>
                  <td className="num">{pct(s.sla.min)}</td>
                  <td className="num">{s.sla.breaches}</td>
                  <td className="num">
                    {s.incidents}
                    {s.openIncidents > 0 ? (
                      <span className="badge badge-bad">{m.open(s.openIncidents)}</span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card">
        <h2>{m.resources}</h2>
        {!resources.ok ? (
          <ErrorBox error={resources.error} labels={t.errors} />
        ) : resources.data.items.length === 0 ? (
          <p className="empty">{m.none}</p>
        ) : (
          <table className="table" data-testid="monitoring-resources">
            <thead>
              <tr>
                <th scope="col">{m.resource}</th>
                <th scope="col">{m.seller}</th>
                <th scope="col">{m.status}</th>
                <th scope="col">{m.lastHeartbeat}</th>
                <th scope="col" className="num">
                  {m.utilization}
                </th>
                <th scope="col" className="num">
                  {m.measured}
                </th>
                <th scope="col" className="num">
                  {m.sla}
                </th>
                <th scope="col">{m.incidents}</th>
              </tr>
            </thead>
            <tbody>
              {resources.data.items.map((r) => (
                <tr key={r.id} data-testid={`monitoring-resource-${r.handle}`}>
                  <td>
                    {r.name} <small>{r.handle}</small>
                  </td>
                  <td>{sellerName.get(r.sellerOrgId) ?? r.sellerOrgId}</td>
                  <td>
                    <span className={`badge ${LIVE_BADGE[r.live]}`}>{m.live[r.live]}</span>
                  </td>
                  <td>{r.lastHeartbeatAt ? formatDateTime(r.lastHeartbeatAt, lang) : m.never}</td>
                  <td className="num">
                    {pct(r.utilization.ratio)}{' '}
                    <small>{m.slots(r.utilization.slotsLeased, r.utilization.slotsOffered)}</small>
                  </td>
                  <td className="num">{pct(r.utilization.measured)}</td>
                  <td className="num">
                    <span
                      className={`badge ${r.sla.met === false ? 'badge-bad' : r.sla.met ? 'badge-ok' : 'badge-paused'}`}
                    >
                      {pct(r.sla.attainment)}
                    </span>{' '}
                    <small>{m.target(r.sla.target)}</small>
                  </td>
                  <td>
                    {r.incidents.length === 0 ? (
                      <span className="empty">{m.noIncidents}</span>
                    ) : (
                      <ul className="plain">
                        {r.incidents.map((i) => (
                          <li key={i.start}>
                            {m.noHeartbeat}: {formatDateTime(i.start, lang)} –{' '}
                            {i.end ? formatDateTime(i.end, lang) : m.ongoing} (
                            {m.minutes(i.minutes)})
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
