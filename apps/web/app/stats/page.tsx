import type { Metadata } from 'next';
import { ErrorBox } from '@/components/error-box';
import { StatsChart } from '@/components/stats-chart';
import { call, marketApi } from '@/lib/client';
import { formatDateTime, formatDecimal, formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { one, type SearchParams } from '@/lib/params';
import { chartSeries, currenciesOf } from '@/lib/stats-chart';

const BUCKETS = ['hour', 'day', 'week', 'month'] as const;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.privacy.stats.heading };
}

export default async function StatsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const { lang, t } = await getI18n();
  const s = t.privacy.stats;
  const bucketParam = one(sp, 'bucket');
  const bucket = BUCKETS.find((b) => b === bucketParam) ?? 'day';
  const currency = /^[A-Z]{3}$/.test(one(sp, 'currency')) ? one(sp, 'currency') : undefined;
  const result = await call(
    marketApi().GET('/v1/statistics/market', {
      params: { query: { bucket, ...(currency ? { currency } : {}) } },
    }),
  );
  return (
    <>
      <section className="page-head">
        <h1>{s.heading}</h1>
        <p className="lead">{s.intro}</p>
      </section>
      <form className="filters" method="get" action="/stats">
        <label>
          {s.bucket}{' '}
          <select name="bucket" defaultValue={bucket}>
            {BUCKETS.map((b) => (
              <option key={b} value={b}>
                {s.buckets[b]}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          {s.currency} <input name="currency" defaultValue={currency ?? ''} size={4} />
        </label>{' '}
        <button type="submit" className="button">
          {s.show}
        </button>
      </form>
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.cells.length === 0 ? (
        <p className="empty">{s.empty}</p>
      ) : (
        <>
          <p className="muted small" data-testid="stats-k">
            {s.k(result.data.k)} · {s.suppressedNote(result.data.k)}
          </p>
          {currenciesOf(result.data.cells).map((cur) => (
            <section key={cur} className="card" data-testid={`stats-${cur}`}>
              <h2>{cur}</h2>
              <StatsChart
                series={chartSeries(result.data.cells, cur, 'pricePerSlotHour')}
                title={`${s.priceIndex} (${cur})`}
                lang={lang}
                suppressedLabel={s.suppressed}
              />
              <StatsChart
                series={chartSeries(result.data.cells, cur, 'volume')}
                title={`${s.volume} (${cur})`}
                lang={lang}
                suppressedLabel={s.suppressed}
              />
            </section>
          ))}
          <h2>{s.table}</h2>
          <div className="table-wrap">
            <table className="table" data-testid="stats-table">
              <thead>
                <tr>
                  <th scope="col">{s.when}</th>
                  <th scope="col">{s.class}</th>
                  <th scope="col">{s.region}</th>
                  <th scope="col" className="num">
                    {s.slotHours}
                  </th>
                  <th scope="col" className="num">
                    {s.volume}
                  </th>
                  <th scope="col" className="num">
                    {s.price}
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.data.cells.map((c) => (
                  <tr
                    key={`${c.bucket}-${c.class}-${c.region}-${c.currency}`}
                    data-suppressed={c.suppressed ? 'true' : 'false'}
                  >
                    <td>{formatDateTime(c.bucket, lang)}</td>
                    <td>{t.classes[c.class] ?? c.class}</td>
                    <td>{c.region}</td>
                    {c.suppressed ? (
                      <td colSpan={3} className="num muted">
                        {s.suppressed}
                      </td>
                    ) : (
                      <>
                        <td className="num">{c.slotHours ? formatDecimal(c.slotHours) : '—'}</td>
                        <td className="num amount">
                          {c.volume ? formatMoney(c.volume, c.currency) : '—'}
                        </td>
                        <td className="num amount">
                          {c.pricePerSlotHour ? formatMoney(c.pricePerSlotHour, c.currency) : '—'}
                        </td>
                      </>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
