import type { Metadata } from 'next';
import Link from 'next/link';
import { DLQ_REASONS, type DlqReason } from '@suanli/contracts';
import { ErrorBox } from '@/components/error-box';
import { OperatorNav } from '@/components/operator-nav';
import { call, marketApi } from '@/lib/client';
import { formatDateTime } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { one, type SearchParams } from '@/lib/params';
import { requireSession } from '@/lib/session';

// The closed set of dead-letter reasons (docs/metering.md), declared once in the contracts.
const REASONS = DLQ_REASONS;
type Reason = DlqReason;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.deadLetters.heading };
}

export default async function DeadLettersPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const session = await requireSession('/operator/dead-letters');
  const sp = await searchParams;
  const reason = (REASONS as readonly string[]).includes(one(sp, 'reason'))
    ? (one(sp, 'reason') as Reason)
    : undefined;
  const cursor = /^\d{1,20}$/.test(one(sp, 'cursor')) ? one(sp, 'cursor') : undefined;
  const { lang, t } = await getI18n();
  const u = t.usage;
  const result = await call(
    marketApi(session.token).GET('/v1/usage/dead-letters', {
      params: {
        query: { limit: 50, ...(reason ? { reason } : {}), ...(cursor ? { cursor } : {}) },
      },
    }),
  );
  const href = (r?: string) =>
    r ? `/operator/dead-letters?reason=${r}` : '/operator/dead-letters';
  return (
    <>
      <section className="page-head">
        <h1>{t.j.deadLetters.heading}</h1>
        <p className="lead">{t.j.deadLetters.intro}</p>
      </section>
      <OperatorNav t={t} current="deadLetters" />
      <nav className="chips" aria-label={u.reason}>
        <Link href={href()} aria-current={!reason ? 'page' : undefined}>
          {u.allReasons}
        </Link>
        {REASONS.map((r) => (
          <Link key={r} href={href(r)} aria-current={reason === r ? 'page' : undefined}>
            {u.reasons[r] ?? r}
          </Link>
        ))}
      </nav>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{u.noDeadLetters}</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="dead-letters">
              <thead>
                <tr>
                  <th scope="col">{u.when}</th>
                  <th scope="col">{u.reason}</th>
                  <th scope="col">{u.detail}</th>
                  <th scope="col">{u.agent}</th>
                  <th scope="col">{u.lease}</th>
                </tr>
              </thead>
              <tbody>
                {result.data.items.map((d) => (
                  <tr key={d.id}>
                    <td className="nowrap">{formatDateTime(d.createdAt, lang)}</td>
                    <td>{u.reasons[d.reason] ?? d.reason}</td>
                    <td className="small">{d.detail}</td>
                    <td className="mono small">{d.agentId ?? '—'}</td>
                    <td className="mono small">{d.leaseId ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {result.data.nextCursor ? (
            <p className="pager">
              <Link
                className="button button-ghost"
                rel="next"
                href={`/operator/dead-letters?${new URLSearchParams({
                  ...(reason ? { reason } : {}),
                  cursor: result.data.nextCursor,
                }).toString()}`}
              >
                {u.older}
              </Link>
            </p>
          ) : null}
        </>
      )}
    </>
  );
}
