import type { Metadata } from 'next';
import Link from 'next/link';
import { CredibilityPanel } from '@/components/credibility';
import { ErrorBox } from '@/components/error-box';
import { LiveBadge } from '@/components/live-status';
import {
  classForm,
  NormalizedPrice,
  regionOf,
  specLines,
  unitLabel,
} from '@/components/offer-bits';
import { formatDateTime, formatMoney } from '@/lib/format';
import { getI18n } from '@/lib/i18n/server';
import { loginUrl, getSession } from '@/lib/session';
import { criHref } from '@/lib/params';
import { OrderForm } from './order-form';
import { call, marketApi } from '@/lib/client';

interface Props {
  params: Promise<{ id: string }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function loadOffer(id: string) {
  if (!UUID.test(id)) {
    return { ok: false as const, error: { status: 404, code: 'not_found', message: '' } };
  }
  return call(marketApi().GET('/v1/offers/{id}', { params: { path: { id } } }));
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  const result = await loadOffer(id);
  return result.ok ? { title: result.data.title } : {};
}

export default async function OfferPage({ params }: Props) {
  const { id } = await params;
  const { lang, t } = await getI18n();
  const result = await loadOffer(id);
  if (!result.ok) {
    return (
      <>
        <p className="crumbs">
          <Link href="/">← {t.offer.back}</Link>
        </p>
        <ErrorBox error={result.error} labels={t.errors} />
      </>
    );
  }
  const offer = result.data;
  const session = await getSession();
  const isBuyer = session?.profile?.roles.includes('buyer') ?? false;
  const r = offer.resource;
  const [credibility, sellerCredibility] = await Promise.all([
    call(marketApi().GET('/v1/credibility/resources/{id}', { params: { path: { id: r.id } } })),
    call(
      marketApi().GET('/v1/credibility/sellers/{orgId}', {
        params: { path: { orgId: offer.seller.id } },
      }),
    ),
  ]);

  return (
    <>
      <p className="crumbs">
        <Link href="/">← {t.offer.back}</Link>
      </p>
      <section className="page-head">
        <h1>
          {offer.title}{' '}
          <span className={`badge badge-${offer.status}`}>
            {t.offer.status[offer.status] ?? offer.status}
          </span>
        </h1>
        <p className="lead">
          {t.offer.seller}: <strong>{offer.seller.name}</strong>
        </p>
      </section>

      <div className="grid">
        <section className="card">
          <h2>{t.offer.resource}</h2>
          <dl className="facts">
            <dt>{t.offer.cri}</dt>
            <dd>
              <Link href={criHref(r.cri)} className="mono" data-testid="offer-cri">
                {r.cri}
              </Link>
            </dd>
            <dt>{t.cri.name}</dt>
            <dd>{r.name}</dd>
            <dt>{t.offer.classForm}</dt>
            <dd>{classForm(r, t)}</dd>
            <dt>{t.offer.region}</dt>
            <dd>
              {regionOf(r.location)} · {r.location.site}
            </dd>
            <dt>{t.offer.specs}</dt>
            <dd>
              <ul className="plain">
                {specLines(r.spec, t).map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </dd>
          </dl>
        </section>

        <section className="card">
          <h2>{t.offer.prices}</h2>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">{t.offer.unit}</th>
                <th scope="col" className="num">
                  {t.offer.price}
                </th>
              </tr>
            </thead>
            <tbody>
              {offer.prices.map((p) => (
                <tr key={p.unit}>
                  <td>{unitLabel(p.unit, t)}</td>
                  <td className="num amount" data-testid="offer-price">
                    {formatMoney(p.price, offer.currency)}
                    {p.tiers ? (
                      <ul className="plain small muted" data-testid="offer-tiers">
                        {p.tiers.map((tier) => (
                          <li key={tier.upTo ?? 'rest'}>
                            {tier.upTo === null ? t.offer.tierRest : t.offer.tierUpTo(tier.upTo)}:{' '}
                            {formatMoney(tier.price, offer.currency)}
                          </li>
                        ))}
                      </ul>
                    ) : null}
                    {p.reserved ? (
                      <div className="small muted" data-testid="offer-reserved">
                        {t.offer.reservedBlock(
                          p.reserved.quantity,
                          formatMoney(p.reserved.price, offer.currency),
                        )}
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="highlight">
            <div className="muted small">{t.offer.normalized}</div>
            <div className="big">
              <NormalizedPrice offer={offer} t={t} />
            </div>
            <div className="muted small">{t.offer.normalizedHelp}</div>
          </div>
          <dl className="facts">
            <dt>{t.offer.model}</dt>
            <dd data-testid="offer-model">
              {t.offer.models[offer.pricingModel] ?? offer.pricingModel}
            </dd>
            {offer.pricingModel === 'interruptible' && offer.prices[0] ? (
              <>
                <dt>{t.offer.bidFloor}</dt>
                <dd className="amount">{formatMoney(offer.prices[0].price, offer.currency)}</dd>
              </>
            ) : null}
            <dt>{t.offer.window}</dt>
            <dd>
              {offer.availableFrom === null && offer.availableUntil === null
                ? t.offer.windowOpen
                : t.offer.windowRange(
                    offer.availableFrom === null ? '…' : formatDateTime(offer.availableFrom, lang),
                    offer.availableUntil === null
                      ? '…'
                      : formatDateTime(offer.availableUntil, lang),
                  )}
            </dd>
            <dt>{t.offer.sla}</dt>
            <dd data-testid="offer-sla">
              {t.offer.slaTarget(offer.sla.target)}
              {offer.sla.isDefault ? ` (${t.offer.slaDefault})` : ''}
              <ul className="plain small muted">
                {offer.sla.schedule.map((step) => (
                  <li key={step.below}>{t.offer.slaCredit(step.below, step.credit)}</li>
                ))}
              </ul>
            </dd>
            <dt>{t.offer.available}</dt>
            <dd>{t.catalog.availableOf(offer.available, offer.capacity)}</dd>
            <dt>{t.cri.liveStatus}</dt>
            <dd>
              <LiveBadge live={offer.resource.live} t={t} />
              {offer.resource.live.lastHeartbeatAt
                ? ` · ${t.cri.lastHeartbeat} ${formatDateTime(offer.resource.live.lastHeartbeatAt, lang)}`
                : ''}
            </dd>
            <dt>{t.offer.term}</dt>
            <dd>{t.offer.hoursRange(offer.minHours, offer.maxHours)}</dd>
            <dt>{t.offer.unsigned}</dt>
            <dd>{offer.acceptsUnsigned ? t.offer.unsignedYes : t.offer.unsignedNo}</dd>
            <dt>{t.offer.listed}</dt>
            <dd>{formatDateTime(offer.createdAt, lang)}</dd>
          </dl>
        </section>

        <section className="card">
          <h2>{t.offer.order.heading}</h2>
          {offer.status !== 'active' || offer.available < 1 ? (
            <p className="muted">{t.offer.order.unavailable}</p>
          ) : !session ? (
            <div className="stack">
              <p className="muted">{t.offer.order.loginFirst}</p>
              <p>
                <Link href={loginUrl(`/offers/${offer.id}`)} className="button">
                  {t.nav.login}
                </Link>
              </p>
            </div>
          ) : !isBuyer ? (
            <p className="muted">{t.offer.order.notBuyer}</p>
          ) : (
            <OrderForm
              offerId={offer.id}
              idempotencyKey={crypto.randomUUID()}
              maxSlots={offer.available}
              minHours={offer.minHours}
              maxHours={offer.maxHours}
              bidFloor={
                offer.pricingModel === 'interruptible' ? (offer.prices[0]?.price ?? null) : null
              }
              bidHelp={
                offer.pricingModel === 'interruptible' && offer.prices[0]
                  ? t.offer.bidHelp(formatMoney(offer.prices[0].price, offer.currency))
                  : ''
              }
              labels={t.offer.order}
              errors={t.errors}
            />
          )}
        </section>
      </div>
      {credibility.ok ? (
        <CredibilityPanel
          view={credibility.data}
          seller={sellerCredibility.ok ? sellerCredibility.data : null}
          t={t}
          lang={lang}
        />
      ) : null}
    </>
  );
}
