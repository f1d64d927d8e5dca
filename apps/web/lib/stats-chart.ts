import type { MarketStatisticsCell } from '@suanli/contracts';

export type ChartPoint = { t: number; v: number | null; label: string | null };
export type ChartSeries = { key: string; class: string; region: string; points: ChartPoint[] };

/**
 * Series per class and region for one currency and one figure (price or volume), in time
 * order. A suppressed cell is a gap (`v: null`), never a value. The figure becomes a number
 * only to place it on the chart; the label keeps the exact decimal string.
 */
export function chartSeries(
  cells: MarketStatisticsCell[],
  currency: string,
  figure: 'pricePerSlotHour' | 'volume',
): ChartSeries[] {
  const by = new Map<string, ChartSeries>();
  for (const c of cells) {
    if (c.currency !== currency) continue;
    const key = `${c.class}|${c.region}`;
    let s = by.get(key);
    if (!s) {
      s = { key, class: c.class, region: c.region, points: [] };
      by.set(key, s);
    }
    const value = c.suppressed ? null : c[figure];
    s.points.push({
      t: Date.parse(c.bucket),
      v: value === null ? null : Number(value),
      label: value,
    });
  }
  for (const s of by.values()) s.points.sort((a, b) => a.t - b.t);
  return [...by.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** The currencies present, in order. */
export function currenciesOf(cells: MarketStatisticsCell[]): string[] {
  return [...new Set(cells.map((c) => c.currency))].sort();
}
