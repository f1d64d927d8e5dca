import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorBox } from '@/components/error-box';
import { Field, LiveForm } from '@/components/live-form';
import { unitLabel } from '@/components/offer-bits';
import { call, marketApi } from '@/lib/client';
import { formLabels } from '@/lib/form-labels';
import { getI18n } from '@/lib/i18n/server';
import { createOffer } from '@/lib/journey-actions';
import { requireSession } from '@/lib/session';

// Fixed prices per unit. (The price-model fields of this form are extended by the market work.)
const PRICE_UNITS = ['slot_h', 'scu.ai', 'scu.hpc', 'scu.gen', 'mem.gib_h'];
const PRICE = '(0|[1-9][0-9]{0,11})(\\.[0-9]{1,9})?';

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
            <fieldset className="field">
              <legend>{o.prices}</legend>
              <p className="hint">{o.pricesHint}</p>
              <div className="row">
                {PRICE_UNITS.map((unit) => (
                  <Field
                    key={unit}
                    name={`price.${unit}`}
                    label={o.pricePer(unitLabel(unit, t))}
                    inputMode="decimal"
                    pattern={PRICE}
                    patternMessage={o.priceHint}
                    maxLength={22}
                  />
                ))}
              </div>
            </fieldset>
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
