import Link from 'next/link';
import type { OfferView, SupportedCurrency } from '@suanli/contracts';
import { ScoreBadge } from '@/components/credibility';
import { ErrorBox } from '@/components/error-box';
import { LiveBadge } from '@/components/live-status';
import {
  classForm,
  NormalizedPrice,
  PriceList,
  regionOf,
  specLines,
} from '@/components/offer-bits';
import { getI18n } from '@/lib/i18n/server';
import { criHref, one, type SearchParams } from '@/lib/params';
import { call, marketApi } from '@/lib/client';

const CLASSES = ['GEN', 'AI', 'HPC'] as const satisfies readonly OfferView['resource']['class'][];
const FORMS = [
  'BM',
  'VM',
  'CTR',
  'API',
  'JOB',
] as const satisfies readonly OfferView['resource']['form'][];
const CURRENCIES = ['CNY', 'USD', 'EUR', 'HKD'];
const MIN_CREDIBILITY = ['50', '60', '70', '80', '90'];
const ACCELERATORS = [
  'H200',
  'H100',
  'H20',
  'A100',
  'A800',
  'L40S',
  'RTX4090',
  'MI300X',
  '910B',
  'V100',
];
const SORTS = ['newest', 'price', 'credibility'] as const;

/** The filters that are set (the API refuses empty values such as `availableNow=`). */
function present<T extends Record<string, string>>(o: T): { [K in keyof T]?: Exclude<T[K], ''> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '')) as {
    [K in keyof T]?: Exclude<T[K], ''>;
  };
}

function pick<T extends string>(value: string, allowed: readonly T[]): T | '' {
  return (allowed as readonly string[]).includes(value) ? (value as T) : '';
}

export default async function CatalogPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const sp = await searchParams;
  const { t } = await getI18n();
  const filters = {
    class: pick(one(sp, 'class'), CLASSES),
    form: pick(one(sp, 'form'), FORMS),
    region: one(sp, 'region').toUpperCase().slice(0, 16),
    // A code the exchange does not trade in is refused by the API (shown as its error).
    currency: /^[A-Za-z]{3}$/.test(one(sp, 'currency'))
      ? (one(sp, 'currency').toUpperCase() as SupportedCurrency)
      : ('' as const),
    q: one(sp, 'q').slice(0, 100),
    minCredibility: pick(one(sp, 'minCredibility'), MIN_CREDIBILITY),
    accelerator: pick(one(sp, 'accelerator'), ACCELERATORS),
    minAccelerators: /^[1-9]\d{0,3}$/.test(one(sp, 'minAccelerators'))
      ? one(sp, 'minAccelerators')
      : '',
    maxPrice: /^\d{1,12}(\.\d{1,9})?$/.test(one(sp, 'maxPrice')) ? one(sp, 'maxPrice') : '',
    availableNow: one(sp, 'availableNow') === 'true' ? ('true' as const) : ('' as const),
    sort: pick(one(sp, 'sort'), SORTS),
  };
  const cursor = /^[\w-]{1,200}$/.test(one(sp, 'cursor')) ? one(sp, 'cursor') : '';
  const result = await call(
    marketApi().GET('/v1/offers', {
      params: {
        query: {
          ...present(filters),
          // counts and scores (validated digits), not amounts
          minAccelerators: filters.minAccelerators ? Number(filters.minAccelerators) : undefined,
          minCredibility: filters.minCredibility ? Number(filters.minCredibility) : undefined,
          ...(cursor ? { cursor } : {}),
        },
      },
    }),
  );
  const filtered = Object.values(filters).some(Boolean);
  const nextHref =
    result.ok && result.data.nextCursor
      ? `/?${new URLSearchParams({
          ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)),
          cursor: result.data.nextCursor,
        }).toString()}`
      : null;

  return (
    <>
      <section className="page-head">
        <h1>{t.catalog.heading}</h1>
        <p className="lead">{t.catalog.intro}</p>
      </section>

      <form className="filters card" method="get" action="/" aria-label={t.catalog.filters}>
        <label>
          <span>{t.catalog.q}</span>
          <input
            type="search"
            name="q"
            defaultValue={filters.q}
            placeholder={t.catalog.qPlaceholder}
            maxLength={100}
          />
        </label>
        <label>
          <span>{t.catalog.class}</span>
          <select name="class" defaultValue={filters.class}>
            <option value="">{t.catalog.any}</option>
            {CLASSES.map((c) => (
              <option key={c} value={c}>
                {t.classes[c]}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t.catalog.form}</span>
          <select name="form" defaultValue={filters.form}>
            <option value="">{t.catalog.any}</option>
            {FORMS.map((f) => (
              <option key={f} value={f}>
                {t.forms[f]}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t.catalog.region}</span>
          <input
            type="text"
            name="region"
            defaultValue={filters.region}
            placeholder={t.catalog.regionPlaceholder}
            maxLength={16}
          />
        </label>
        <label>
          <span>{t.catalog.currency}</span>
          <select name="currency" defaultValue={filters.currency}>
            <option value="">{t.catalog.any}</option>
            {Array.from(
              new Set([...CURRENCIES, ...(filters.currency ? [filters.currency] : [])]),
            ).map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t.credibility.filter}</span>
          <select name="minCredibility" defaultValue={filters.minCredibility}>
            <option value="">{t.catalog.any}</option>
            {MIN_CREDIBILITY.map((m) => (
              <option key={m} value={m}>
                {t.credibility.atLeast(Number(m))}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t.catalog.accelerator}</span>
          <select name="accelerator" defaultValue={filters.accelerator}>
            <option value="">{t.catalog.any}</option>
            {ACCELERATORS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t.catalog.minAccelerators}</span>
          <input
            type="number"
            name="minAccelerators"
            min={1}
            max={9999}
            defaultValue={filters.minAccelerators}
          />
        </label>
        <label>
          <span>{t.catalog.maxPrice}</span>
          <input
            type="text"
            inputMode="decimal"
            name="maxPrice"
            defaultValue={filters.maxPrice}
            pattern="\d+(\.\d+)?"
            maxLength={22}
          />
        </label>
        <label>
          <span>{t.catalog.sort}</span>
          <select name="sort" defaultValue={filters.sort || 'newest'}>
            <option value="newest">{t.catalog.sortNewest}</option>
            <option value="price">{t.catalog.sortPrice}</option>
            <option value="credibility">{t.catalog.sortCredibility}</option>
          </select>
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            name="availableNow"
            value="true"
            defaultChecked={filters.availableNow === 'true'}
          />
          <span>{t.catalog.availableNow}</span>
        </label>
        <div className="filter-actions">
          <button type="submit" className="button">
            {t.catalog.apply}
          </button>
          {filtered ? (
            <Link href="/" className="button button-ghost">
              {t.catalog.reset}
            </Link>
          ) : null}
        </div>
      </form>

      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{t.catalog.empty}</p>
      ) : (
        <>
          <form id="compare" method="get" action="/compare" className="compare-bar">
            <p className="muted count">{t.catalog.count(result.data.items.length)}</p>
            <span className="muted small">{t.j.compare.hint}</span>
            <button type="submit" className="button button-small" data-testid="compare-submit">
              {t.j.compare.submit}
            </button>
          </form>
          <div className="table-wrap">
            <table className="table offers-table">
              <thead>
                <tr>
                  <th scope="col">{t.j.compare.pick}</th>
                  <th scope="col">{t.catalog.offer}</th>
                  <th scope="col">{t.catalog.cri}</th>
                  <th scope="col">{t.catalog.classForm}</th>
                  <th scope="col">{t.catalog.region}</th>
                  <th scope="col">{t.catalog.specs}</th>
                  <th scope="col">{t.catalog.prices}</th>
                  <th scope="col">{t.catalog.normalized}</th>
                  <th scope="col">{t.credibility.column}</th>
                  <th scope="col" className="num">
                    {t.catalog.available}
                  </th>
                  <th scope="col">
                    <span className="sr-only">{t.catalog.view}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.data.items.map((offer) => (
                  <tr key={offer.id} data-offer-id={offer.id}>
                    <td>
                      <input
                        type="checkbox"
                        name="ids"
                        value={offer.id}
                        form="compare"
                        aria-label={t.j.compare.pickOffer(offer.title)}
                      />
                    </td>
                    <td>
                      <Link href={`/offers/${offer.id}`} className="offer-title">
                        {offer.title}
                      </Link>
                      <div className="muted small">{offer.seller.name}</div>
                    </td>
                    <td>
                      <Link href={criHref(offer.resource.cri)} className="mono">
                        {offer.resource.cri}
                      </Link>
                    </td>
                    <td>{classForm(offer.resource, t)}</td>
                    <td>
                      {regionOf(offer.resource.location)}
                      <div className="muted small">{offer.resource.location.site}</div>
                    </td>
                    <td>
                      <ul className="plain">
                        {specLines(offer.resource.spec, t).map((line) => (
                          <li key={line}>{line}</li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      <PriceList offer={offer} t={t} />
                    </td>
                    <td>
                      <NormalizedPrice offer={offer} t={t} />
                    </td>
                    <td>
                      <ScoreBadge credibility={offer.credibility} t={t} />
                    </td>
                    <td className="num">
                      {t.catalog.availableOf(offer.available, offer.capacity)}{' '}
                      <LiveBadge live={offer.resource.live} t={t} />
                    </td>
                    <td>
                      <Link
                        href={`/offers/${offer.id}`}
                        className="button button-small button-ghost"
                      >
                        {t.catalog.view}
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {nextHref ? (
            <p className="pager">
              <Link href={nextHref} className="button button-ghost" rel="next">
                {t.catalog.next}
              </Link>
            </p>
          ) : null}
        </>
      )}
    </>
  );
}
