import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorBox } from '@/components/error-box';
import { loadForBuyer } from '@/lib/buyer';
import { formatDateTime, formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { one, type SearchParams } from '@/lib/params';

/** The fields of a settlement record this page shows (records of every kind have some). */
interface RecordFields {
  buyer?: string;
  currency?: string;
  total?: string;
  gross?: string;
  amount?: string;
  number?: string;
}

const KINDS = ['debit_note', 'invoice', 'payout', 'credit'] as const;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.privacy.records.heading };
}

export default async function SellerRecordsPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const sp = await searchParams;
  const kind = KINDS.find((k) => k === one(sp, 'kind'));
  const result = await loadForBuyer(
    (api) => api.GET('/v1/seller/records', { params: { query: kind ? { kind } : {} } }),
    '/seller/records',
  );
  const { lang, t } = await getI18n();
  const r = t.privacy.records;
  return (
    <>
      <section className="page-head">
        <h1>{r.heading}</h1>
        <p className="lead">{r.intro}</p>
      </section>
      <p className="filters">
        <Link href="/seller/records">{r.all}</Link>
        {KINDS.map((k) => (
          <span key={k}>
            {' · '}
            <Link href={`/seller/records?kind=${k}`}>{r.kinds[k]}</Link>
          </span>
        ))}
      </p>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{r.empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="seller-records">
            <thead>
              <tr>
                <th scope="col">{r.when}</th>
                <th scope="col">{r.kind}</th>
                <th scope="col">{r.buyer}</th>
                <th scope="col" className="num">
                  {r.amount}
                </th>
                <th scope="col" className="num">
                  {r.leaf}
                </th>
              </tr>
            </thead>
            <tbody>
              {result.data.items.map((l) => {
                const record = (l.record ?? {}) as RecordFields;
                const amount = record.total ?? record.gross ?? record.amount;
                return (
                  <tr key={`${l.kind}-${l.recordId}`} data-kind={l.kind}>
                    <td>{formatDateTime(l.createdAt, lang)}</td>
                    <td>
                      {r.kinds[l.kind] ?? l.kind}
                      {record.number ? <span className="mono small"> {record.number}</span> : null}
                    </td>
                    <td className="mono" data-testid="record-buyer">
                      {record.buyer ?? '—'}
                    </td>
                    <td className="num amount">
                      {amount && record.currency ? formatMoney(amount, record.currency) : '—'}
                    </td>
                    <td className="num mono" title={l.leafHash}>
                      {l.leafIndex ?? r.pending}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
