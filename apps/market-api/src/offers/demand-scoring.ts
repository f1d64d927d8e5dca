import { Decimal } from '@suanli/money';
import type { DemandMatchView, OfferView } from '@suanli/contracts';

export const DEMAND_WEIGHTS = {
  price: '0.4',
  credibility: '0.3',
  locality: '0.2',
  availability: '0.1',
} as const;

const d4 = (d: Decimal) => d.toDecimalPlaces(4).toString();

/**
 * Ranks candidate offers for a demand. Every component is in [0, 1] and explained, so a buyer
 * can see why one offer ranks above another:
 * - price: cheapest normalized price among the candidates ÷ this one's (1 for the cheapest);
 * - credibility: score ÷ 100, or a neutral 0.5 before any evidence;
 * - locality: 1 in the preferred subdivision (or with no preference), 0.5 in the same
 *   country, 0 elsewhere;
 * - availability: the share of the offer's capacity that is free now, halved while its resource
 *   is degraded (late or self-reported degraded heartbeats).
 */
export function rankOffers(
  offers: OfferView[],
  demand: { region?: string; slots: number; hours: number },
): DemandMatchView[] {
  const prices = offers
    .map((o) => o.normalizedPrice?.price)
    .filter((p): p is string => p !== undefined)
    .map((p) => new Decimal(p));
  const cheapest = prices.length ? Decimal.min(...prices) : null;
  const [country, subdivision] = demand.region?.split('-') ?? [];

  const ranked = offers.map((o): DemandMatchView => {
    const parts: DemandMatchView['components'] = [];
    const add = (name: keyof typeof DEMAND_WEIGHTS, value: Decimal, reason: string) =>
      parts.push({
        name,
        weight: DEMAND_WEIGHTS[name],
        value: d4(value),
        contribution: d4(value.times(DEMAND_WEIGHTS[name])),
        reason,
      });

    const price = o.normalizedPrice ? new Decimal(o.normalizedPrice.price) : null;
    if (price && cheapest && price.gt(0)) {
      add(
        'price',
        cheapest.div(price),
        `${o.normalizedPrice!.price} ${o.currency} per ${o.normalizedPrice!.unit}; cheapest ${cheapest.toString()}`,
      );
    } else {
      add('price', new Decimal(0), 'no normalized price to compare');
    }

    if (o.credibility) {
      add(
        'credibility',
        new Decimal(o.credibility.score).div(100),
        `credibility ${o.credibility.score} of 100`,
      );
    } else {
      add('credibility', new Decimal('0.5'), 'no credibility evidence yet: neutral');
    }

    const loc = o.resource.location;
    if (!country) add('locality', new Decimal(1), 'no region preference');
    else if (loc.country === country && (!subdivision || loc.subdivision === subdivision))
      add('locality', new Decimal(1), `in ${demand.region}`);
    else if (loc.country === country)
      add('locality', new Decimal('0.5'), `in ${loc.country}-${loc.subdivision}, same country`);
    else add('locality', new Decimal(0), `in ${loc.country}-${loc.subdivision}, outside`);

    const free = o.capacity > 0 ? new Decimal(o.available).div(o.capacity) : new Decimal(0);
    const degraded = o.resource.live.status === 'degraded';
    add(
      'availability',
      degraded ? free.div(2) : free,
      `${o.available} of ${o.capacity} slots free` +
        (degraded ? '; resource degraded (halved)' : ''),
    );

    const score = parts.reduce((s, p) => s.plus(p.contribution), new Decimal(0));
    return {
      offer: o,
      score: d4(score),
      components: parts,
      order: { offerId: o.id, slots: demand.slots, hours: demand.hours },
    };
  });
  // Highest score first; ties by price, then id, so the order is stable.
  return ranked.sort(
    (a, b) =>
      new Decimal(b.score).comparedTo(a.score) ||
      priceOf(a).comparedTo(priceOf(b)) ||
      a.offer.id.localeCompare(b.offer.id),
  );
}

const priceOf = (m: DemandMatchView) => new Decimal(m.offer.normalizedPrice?.price ?? '1e30');
