import type { OfferView, ResourceSpec } from '@suanli/contracts';
import { formatMoney } from '@/lib/format';
import type { Dict } from '@/lib/i18n';

export function specLines(spec: ResourceSpec, t: Dict): string[] {
  const lines: string[] = [];
  if (spec.accel) lines.push(t.spec.accel(spec.accel.count, spec.accel.model));
  if (spec.cpu) lines.push(t.spec.cpu(spec.cpu));
  if (spec.memGiB) lines.push(t.spec.mem(spec.memGiB));
  if (spec.storageGiB) lines.push(t.spec.storage(spec.storageGiB));
  if (spec.netGbps) lines.push(t.spec.net(spec.netGbps));
  return lines;
}

export function unitLabel(unit: string, t: Dict): string {
  return t.units[unit] ?? unit;
}

export function regionOf(location: OfferView['resource']['location']): string {
  return `${location.country}-${location.subdivision}`;
}

export function classForm(resource: Pick<OfferView['resource'], 'class' | 'form'>, t: Dict) {
  return `${t.classes[resource.class] ?? resource.class} · ${t.forms[resource.form] ?? resource.form}`;
}

export function PriceList({ offer, t }: { offer: OfferView; t: Dict }) {
  return (
    <ul className="plain price-list">
      {offer.prices.map((p) => (
        <li key={p.unit}>
          <span className="amount">{formatMoney(p.price, offer.currency)}</span>{' '}
          <span className="muted">{t.per(unitLabel(p.unit, t))}</span>
        </li>
      ))}
    </ul>
  );
}

export function NormalizedPrice({ offer, t }: { offer: OfferView; t: Dict }) {
  if (!offer.normalizedPrice) return <span className="muted">{t.offer.none}</span>;
  return (
    <span>
      <span className="amount">{formatMoney(offer.normalizedPrice.price, offer.currency)}</span>{' '}
      <span className="muted">{t.per(unitLabel(offer.normalizedPrice.unit, t))}</span>
    </span>
  );
}
