/**
 * The new-offer form's price fields → the API's `prices` rows for each pricing model, and the
 * API's field errors (`prices.1.tiers.0.upTo`) → the form's field names. Pure: shared by the
 * form (patterns) and its Server Function.
 */

export const PRICING_MODELS = ['fixed', 'tiered', 'reserved', 'interruptible'] as const;
export type PricingModelName = (typeof PRICING_MODELS)[number];

export const OFFER_PRICE_UNITS = ['slot_h', 'scu.ai', 'scu.hpc', 'scu.gen', 'mem.gib_h'] as const;
export type OfferPriceUnit = (typeof OFFER_PRICE_UNITS)[number];

/** A decimal typed by a person (the browser's `pattern`, anchored by the browser). */
export const DECIMAL_PATTERN = '(0|[1-9][0-9]{0,11})(\\.[0-9]{1,9})?';
/** Graduated tiers: `bound:price` for each bounded tier, then the price of the rest. */
export const TIERS_PATTERN = `\\s*(${DECIMAL_PATTERN}\\s*:\\s*${DECIMAL_PATTERN}\\s*,\\s*)*${DECIMAL_PATTERN}\\s*`;

const DECIMAL = new RegExp(`^${DECIMAL_PATTERN}$`);

export interface PriceRow {
  unit: OfferPriceUnit;
  price?: string;
  tiers?: { upTo: string | null; price: string }[];
  reserved?: { quantity: string; price: string };
}

export function pricingModel(value: string): PricingModelName {
  return (PRICING_MODELS as readonly string[]).includes(value)
    ? (value as PricingModelName)
    : 'fixed';
}

/** "100:12.00, 500:10.00, 9.00" → tiers; null when it is not in that form. */
export function parseTiers(text: string): { upTo: string | null; price: string }[] | null {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return null;
  const tiers: { upTo: string | null; price: string }[] = [];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const m = /^([^:]+?)\s*:\s*(.+)$/.exec(part);
    if (last) {
      if (m || !DECIMAL.test(part)) return null;
      tiers.push({ upTo: null, price: part });
    } else {
      if (!m || !DECIMAL.test(m[1]) || !DECIMAL.test(m[2])) return null;
      tiers.push({ upTo: m[1], price: m[2] });
    }
  }
  return tiers;
}

/**
 * The rows for the model from the form's fields (`get(name)` answers the trimmed value, '' when
 * absent). Units left empty are not priced. Tier texts that do not parse are reported in
 * `invalid` by field name.
 */
export function priceRows(
  model: PricingModelName,
  get: (name: string) => string,
): { rows: PriceRow[]; invalid: string[] } {
  const rows: PriceRow[] = [];
  const invalid: string[] = [];
  if (model === 'interruptible') {
    const price = get('price.slot_h');
    return { rows: price ? [{ unit: 'slot_h', price }] : [], invalid };
  }
  for (const unit of OFFER_PRICE_UNITS) {
    if (model === 'tiered') {
      const text = get(`tiers.${unit}`);
      if (!text) continue;
      const tiers = parseTiers(text);
      if (tiers) rows.push({ unit, tiers });
      else invalid.push(`tiers.${unit}`);
    } else if (model === 'reserved') {
      const price = get(`price.${unit}`);
      const quantity = get(`reserved.${unit}.quantity`);
      const reservedPrice = get(`reserved.${unit}.price`);
      if (!price && !quantity && !reservedPrice) continue;
      rows.push({
        unit,
        ...(price ? { price } : {}),
        ...(quantity || reservedPrice ? { reserved: { quantity, price: reservedPrice } } : {}),
      });
    } else {
      const price = get(`price.${unit}`);
      if (price) rows.push({ unit, price });
    }
  }
  return { rows, invalid };
}

/** An API issue path of the offer body → the form field that shows it. */
export function priceFieldFor(
  model: PricingModelName,
  path: string,
  rows: readonly PriceRow[],
): string {
  const first = model === 'tiered' ? 'tiers.slot_h' : 'price.slot_h';
  if (path === 'prices') return first;
  const m = /^prices\.(\d+)(?:\.(\w+)(?:\.(\d+|\w+))?)?/.exec(path);
  if (!m) return path;
  const unit = rows[Number(m[1])]?.unit;
  if (!unit) return first;
  if (m[2] === 'tiers') return `tiers.${unit}`;
  if (m[2] === 'reserved') {
    return m[3] === 'price' ? `reserved.${unit}.price` : `reserved.${unit}.quantity`;
  }
  return model === 'tiered' ? `tiers.${unit}` : `price.${unit}`;
}
