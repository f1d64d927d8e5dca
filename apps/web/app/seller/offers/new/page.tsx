import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorBox } from '@/components/error-box';
import { Field, LiveForm } from '@/components/live-form';
import { unitLabel } from '@/components/offer-bits';
import { OfferPricing } from '@/components/offer-pricing';
import { call, marketApi } from '@/lib/client';
import { formLabels } from '@/lib/form-labels';
import { getI18n } from '@/lib/i18n/server';
import { OFFER_PRICE_UNITS } from '@/lib/offer-prices';
import { createOffer } from '@/lib/journey-actions';
import { requireSession } from '@/lib/session';

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t.j.offerForm.heading };
}

export default async function NewOfferPage() {
  const session = await requireSession('/seller/offers/new');
  const { t } = await getI18n();
  const o = t.j.offerForm;
  const resources = await call(marketApi(session.token).GET('/v1/resources'));
  const items = resources.ok ? resources.data.items.filter((r) => r.state !== 'retired') : [];
  return (
    <section className="narrow wide-form">
      <div className="card">
        <h1>{o.heading}</h1>
        <p className="muted">{o.intro}</p>
        {!resources.ok ? (
          <ErrorBox error={resources.error} labels={t.errors} />
        ) : items.length === 0 ? (
          <p className="empty">
            {o.noResources} <Link href="/seller/resources/new">{t.j.resourceForm.add}</Link>
          </p>
        ) : (
          <LiveForm
            action={createOffer}
            labels={formLabels(t)}
            submit={o.submit}
            pending={o.submitting}
            testId="offer-form"
          >
            <Field
              name="resourceId"
              label={o.resource}
              options={items.map((r) => ({ value: r.id, label: `${r.name} · ${r.handle}` }))}
            />
            <Field name="title" label={o.title} required maxLength={200} />
            <div className="row">
              <Field
                name="currency"
                label={o.currency}
                defaultValue="CNY"
                options={['CNY', 'USD', 'EUR', 'HKD'].map((c) => ({ value: c, label: c }))}
              />
              <Field
                name="capacity"
                label={o.capacity}
                type="number"
                min={1}
                max={100000}
                defaultValue="1"
                required
              />
            </div>
            <OfferPricing
              labels={{
                model: t.offer.model,
                models: {
                  fixed: t.offer.models.fixed,
                  tiered: t.offer.models.tiered,
                  reserved: t.offer.models.reserved,
                  interruptible: t.offer.models.interruptible,
                },
                modelHints: o.modelHints,
                prices: o.prices,
                pricesHint: o.pricesHint,
                priceHint: o.priceHint,
                tiersHint: o.tiersHint,
                bidFloor: t.offer.bidFloor,
                units: OFFER_PRICE_UNITS.map((unit) => {
                  const label = unitLabel(unit, t);
                  return {
                    unit,
                    price: o.pricePer(label),
                    tiers: o.tiersPer(label),
                    onDemand: o.onDemandPer(label),
                    reservedQuantity: o.reservedQuantity(label),
                    reservedPrice: o.reservedPricePer(label),
                  };
                }),
              }}
            />
            <div className="row">
              <Field
                name="minHours"
                label={o.minHours}
                type="number"
                min={1}
                max={8760}
                defaultValue="1"
              />
              <Field
                name="maxHours"
                label={o.maxHours}
                type="number"
                min={1}
                max={8760}
                defaultValue="720"
              />
            </div>
          </LiveForm>
        )}
      </div>
    </section>
  );
}
