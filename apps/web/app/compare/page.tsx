import type { Metadata } from 'next';
import Link from 'next/link';
import { ScoreBadge } from '@/components/credibility';
import { ErrorBox } from '@/components/error-box';
import {
  classForm,
  NormalizedPrice,
  PriceList,
  regionOf,
  specLines,
  unitLabel,
} from '@/components/offer-bits';
import { call, marketApi } from '@/lib/client';
import { compareDecimal, permilleOf } from '@/lib/decimal-compare';
import { formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { criHref, type SearchParams } from '@/lib/params';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX = 6;

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.compare.heading };
}

export default async function ComparePage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const sp = await searchParams;
  const raw = sp.ids;
  const ids = [
    ...new Set((Array.isArray(raw) ? raw : raw ? raw.split(',') : []).map((s) => s.trim())),
  ]
    .filter((id) => UUID.test(id))
    .slice(0, MAX);
  const { t } = await getI18n();
  const c = t.j.compare;
  const api = marketApi();
  const results = await Promise.all(
    ids.map((id) => call(api.GET('/v1/offers/{id}', { params: { path: { id } } }))),
  );
  const offers = results.flatMap((r) => (r.ok ? [r.data] : []));
  const failure = results.find((r) => !r.ok && r.error.status !== 404);

  // The lowest normalized price among offers priced per the same unit in the same currency.
  const priced = offers.filter((o) => o.normalizedPrice);
  const comparable =
    priced.length > 1 &&
    priced.every(
      (o) =>
        o.currency === priced[0].currency &&
        o.normalizedPrice?.unit === priced[0].normalizedPrice?.unit,
    );
  const sorted = [...priced].sort((a, b) =>
    compareDecimal(a.normalizedPrice?.price ?? '', b.normalizedPrice?.price ?? ''),
  );
  const cheapestId = comparable ? sorted[0]?.id : undefined;
  const max = sorted.at(-1)?.normalizedPrice?.price ?? '0';

  return (
    <>
      <section className="page-head">
        <h1>{c.heading}</h1>
        <p className="lead">{c.intro}</p>
      </section>
      {failure && !failure.ok ? <ErrorBox error={failure.error} labels={t.errors} /> : null}
      {offers.length === 0 ? (
        <p className="empty">
          {c.empty} <Link href="/">{c.back}</Link>
        </p>
      ) : (
        <>
          {offers.length < 2 ? <p className="notice">{c.tooFew}</p> : null}
          {!comparable && offers.length > 1 ? <p className="notice">{c.differentUnits}</p> : null}
          {comparable ? (
            <section className="card">
              <h2>{c.chart}</h2>
              <ul className="bars" data-testid="compare-chart">
                {sorted.map((o) => (
                  <li key={o.id}>
                    <span className="bar-label">{o.title}</span>
                    <span className="bar-track" aria-hidden="true">
                      <span
                        className={`bar${o.id === cheapestId ? ' bar-best' : ''}`}
                        style={{
                          width: `${permilleOf(o.normalizedPrice?.price ?? '0', max) / 10}%`,
                        }}
                      />
                    </span>
                    <span className="amount bar-value">
                      {formatMoney(o.normalizedPrice?.price ?? '', o.currency)}{' '}
                      <span className="muted small">
                        {t.per(unitLabel(o.normalizedPrice?.unit ?? '', t))}
                      </span>
                    </span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <div className="table-wrap">
            <table className="table compare-table" data-testid="compare-table">
              <thead>
                <tr>
                  <th scope="col">{c.attribute}</th>
                  {offers.map((o) => (
                    <th scope="col" key={o.id} data-offer-id={o.id}>
                      <Link href={`/offers/${o.id}`}>{o.title}</Link>
                      {o.id === cheapestId ? (
                        <span className="badge badge-ok" data-testid="cheapest">
                          {c.cheapest}
                        </span>
                      ) : null}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                <tr>
                  <th scope="row">{t.catalog.normalized}</th>
                  {offers.map((o) => (
                    <td key={o.id} data-testid="compare-normalized">
                      <NormalizedPrice offer={o} t={t} />
                    </td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">{t.catalog.prices}</th>
                  {offers.map((o) => (
                    <td key={o.id}>
                      <PriceList offer={o} t={t} />
                    </td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">{t.catalog.classForm}</th>
                  {offers.map((o) => (
                    <td key={o.id}>{classForm(o.resource, t)}</td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">{t.catalog.specs}</th>
                  {offers.map((o) => (
                    <td key={o.id}>
                      <ul className="plain">
                        {specLines(o.resource.spec, t).map((line) => (
                          <li key={line}>{line}</li>
                        ))}
                      </ul>
                    </td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">{t.catalog.region}</th>
                  {offers.map((o) => (
                    <td key={o.id}>{regionOf(o.resource.location)}</td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">{t.credibility.column}</th>
                  {offers.map((o) => (
                    <td key={o.id}>
                      <ScoreBadge credibility={o.credibility} t={t} />
                    </td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">{t.catalog.available}</th>
                  {offers.map((o) => (
                    <td key={o.id}>{t.catalog.availableOf(o.available, o.capacity)}</td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">{t.catalog.cri}</th>
                  {offers.map((o) => (
                    <td key={o.id}>
                      <Link href={criHref(o.resource.cri)} className="mono small">
                        {o.resource.cri}
                      </Link>
                    </td>
                  ))}
                </tr>
                <tr>
                  <th scope="row">
                    <span className="sr-only">{c.order}</span>
                  </th>
                  {offers.map((o) => (
                    <td key={o.id}>
                      <Link href={`/offers/${o.id}`} className="button button-small">
                        {c.order}
                      </Link>
                    </td>
                  ))}
                </tr>
              </tbody>
            </table>
          </div>
          <p>
            <Link href="/">{c.back}</Link>
          </p>
        </>
      )}
    </>
  );
}
