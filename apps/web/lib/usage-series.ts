import type { UsagePoint } from '@suanli/contracts';

/** One series per unit: buckets ascending, quantities as numbers for drawing only. */
export function seriesOf(points: UsagePoint[]): Map<string, { t: number; q: number }[]> {
  const out = new Map<string, { t: number; q: number }[]>();
  for (const p of points) {
    const list = out.get(p.unit) ?? [];
    // Drawing only: the exact decimal strings are shown in the table beside the chart.
    list.push({ t: Date.parse(p.bucket), q: Number(p.quantity) });
    out.set(p.unit, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.t - b.t);
  return out;
}

/** Σ quantity per unit, exact: 9-decimal strings summed as scaled integers. */
export function totalsOf(points: UsagePoint[]): { unit: string; quantity: string }[] {
  const sums = new Map<string, bigint>();
  const SCALE = 9;
  for (const p of points) {
    const [i, f = ''] = p.quantity.replace(/^-/, '').split('.');
    const v =
      BigInt(i + f.padEnd(SCALE, '0').slice(0, SCALE)) * (p.quantity.startsWith('-') ? -1n : 1n);
    sums.set(p.unit, (sums.get(p.unit) ?? 0n) + v);
  }
  return [...sums.entries()].map(([unit, v]) => {
    const neg = v < 0n;
    const s = (neg ? -v : v).toString().padStart(SCALE + 1, '0');
    return {
      unit,
      quantity: `${neg ? '-' : ''}${s.slice(0, -SCALE)}.${s.slice(-SCALE)}`,
    };
  });
}
