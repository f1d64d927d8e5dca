'use client';

import { useState } from 'react';
import {
  DECIMAL_PATTERN,
  pricingModel,
  PRICING_MODELS,
  TIERS_PATTERN,
  type PricingModelName,
} from '@/lib/offer-prices';
import { Field, useSubmittedValues } from './live-form';

/**
 * The pricing part of the new-offer form: the pricing model, and the fields that model needs
 * per priced unit. Fixed: a price. Tiered: graduated tiers ("100:12.00, 500:10.00, 9.00").
 * Reserved: the on-demand price plus a reserved block (quantity, cheaper price). Interruptible:
 * only the floor for bids per slot-hour. Only the chosen model's fields are in the form.
 */

export interface OfferPricingLabels {
  model: string;
  models: Record<PricingModelName, string>;
  modelHints: Record<PricingModelName, string>;
  prices: string;
  pricesHint: string;
  priceHint: string;
  tiersHint: string;
  /** Per unit: "Price per slot-hour", "Tiers per slot-hour", … */
  units: {
    unit: string;
    price: string;
    tiers: string;
    onDemand: string;
    reservedQuantity: string;
    reservedPrice: string;
  }[];
  bidFloor: string;
}

export function OfferPricing({ labels }: { labels: OfferPricingLabels }) {
  const submitted = useSubmittedValues().pricingModel;
  const [model, setModel] = useState<PricingModelName>(pricingModel(submitted ?? ''));
  const decimal = { inputMode: 'decimal' as const, pattern: DECIMAL_PATTERN, maxLength: 22 };
  const price = { ...decimal, patternMessage: labels.priceHint };
  return (
    <>
      <div className="field">
        <label htmlFor="offer-pricing-model">{labels.model}</label>
        <select
          id="offer-pricing-model"
          name="pricingModel"
          value={model}
          aria-describedby="offer-pricing-model-hint"
          onChange={(e) => setModel(pricingModel(e.target.value))}
        >
          {PRICING_MODELS.map((m) => (
            <option key={m} value={m}>
              {labels.models[m]}
            </option>
          ))}
        </select>
        <p className="hint" id="offer-pricing-model-hint" data-testid="pricing-model-hint">
          {labels.modelHints[model]}
        </p>
      </div>
      <fieldset className="field" data-testid={`pricing-${model}`}>
        <legend>{labels.prices}</legend>
        <p className="hint">{model === 'tiered' ? labels.tiersHint : labels.pricesHint}</p>
        {model === 'interruptible' ? (
          <div className="row">
            <Field name="price.slot_h" label={labels.bidFloor} required {...price} />
          </div>
        ) : model === 'tiered' ? (
          <div className="row">
            {labels.units.map((u) => (
              <Field
                key={u.unit}
                name={`tiers.${u.unit}`}
                label={u.tiers}
                pattern={TIERS_PATTERN}
                patternMessage={labels.tiersHint}
                maxLength={400}
                placeholder="100:12.00, 500:10.00, 9.00"
              />
            ))}
          </div>
        ) : model === 'reserved' ? (
          labels.units.map((u) => (
            <div className="row" key={u.unit}>
              <Field name={`price.${u.unit}`} label={u.onDemand} {...price} />
              <Field
                name={`reserved.${u.unit}.quantity`}
                label={u.reservedQuantity}
                {...decimal}
                patternMessage={labels.priceHint}
              />
              <Field name={`reserved.${u.unit}.price`} label={u.reservedPrice} {...price} />
            </div>
          ))
        ) : (
          <div className="row">
            {labels.units.map((u) => (
              <Field key={u.unit} name={`price.${u.unit}`} label={u.price} {...price} />
            ))}
          </div>
        )}
      </fieldset>
    </>
  );
}
