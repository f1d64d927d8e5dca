import type { Metadata } from 'next';
import Link from 'next/link';
import type { OfferView } from '@suanli/contracts';
import { ErrorBox } from '@/components/error-box';
import { NormalizedPrice, PriceList } from '@/components/offer-bits';
import { loadForBuyer } from '@/lib/buyer';
import { getI18n } from '@/lib/i18n/server';
import { changeOfferStatus } from '@/lib/offer-actions';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.sellerOffers.heading };
}

const NEXT_ACTIONS: Record<OfferView['status'], ('pause' | 'resume' | 'close')[]> = {
  active: ['pause', 'close'],
  paused: ['resume', 'close'],
  closed: [],
};

export default async function SellerOffersPage({
  searchParams,
}: {
  searchParams: Promise<{ created?: string }>;
}) {
  const { created } = await searchParams;
  const result = await loadForBuyer((api) => api.GET('/v1/offers/mine'), '/seller/offers');
  const { t } = await getI18n();
  const s = t.sellerOffers;
  return (
    <>
      <section className="page-head">
        <h1>{s.heading}</h1>
        <p className="lead">{s.intro}</p>
        <p>
          <Link href="/seller/offers/new" className="button">
            {t.j.offerForm.heading}
          </Link>
        </p>
      </section>
      {created ? (
        <p className="notice notice-ok" role="status" data-testid="offer-created">
          {t.j.offerForm.created}
        </p>
      ) : null}
      {!result.ok ? (
        <ErrorBox error={result.error} labels={t.errors} />
      ) : result.data.items.length === 0 ? (
        <p className="empty">{s.empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t.catalog.offer}</th>
                <th scope="col">{t.catalog.prices}</th>
                <th scope="col">{t.catalog.normalized}</th>
                <th scope="col" className="num">
                  {t.catalog.available}
                </th>
                <th scope="col">{s.status}</th>
                <th scope="col">{s.actions}</th>
              </tr>
            </thead>
            <tbody>
              {result.data.items.map((offer) => (
                <tr key={offer.id} data-offer-id={offer.id} data-status={offer.status}>
                  <td>
                    <Link href={`/offers/${offer.id}`} className="offer-title">
                      {offer.title}
                    </Link>
                    <div className="muted small mono">{offer.resource.cri}</div>
                  </td>
                  <td>
                    <div className="muted small" data-testid="offer-model">
                      {t.offer.models[offer.pricingModel] ?? offer.pricingModel}
                    </div>
                    <PriceList offer={offer} t={t} />
                  </td>
                  <td>
                    <NormalizedPrice offer={offer} t={t} />
                  </td>
                  <td className="num">
                    {t.catalog.availableOf(offer.available, offer.capacity)}
                    <meter
                      className="utilization"
                      min={0}
                      max={offer.capacity}
                      value={offer.capacity - offer.available}
                      aria-label={t.j.offerForm.utilization}
                      title={t.j.offerForm.inUse(offer.capacity - offer.available, offer.capacity)}
                    />
                    <div className="muted small" data-testid="offer-utilization">
                      {t.j.offerForm.inUse(offer.capacity - offer.available, offer.capacity)}
                    </div>
                  </td>
                  <td>{s.statuses[offer.status]}</td>
                  <td>
                    {NEXT_ACTIONS[offer.status].map((action) => (
                      <form key={action} action={changeOfferStatus} className="inline-form">
                        <input type="hidden" name="offerId" value={offer.id} />
                        <input type="hidden" name="action" value={action} />
                        <button type="submit" className="button button-small button-ghost">
                          {s.do[action]}
                        </button>
                      </form>
                    ))}
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
