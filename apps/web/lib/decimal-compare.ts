/**
 * Comparisons of decimal strings without binary floats: each value becomes an integer count of
 * 10^-9 units (BigInt). Used to rank prices and size chart bars, never to show an amount.
 */

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;
const SCALE = 9;

export function toNano(value: string): bigint | null {
  const m = DECIMAL.exec(value.trim());
  if (!m) return null;
  const frac = (m[3] ?? '').slice(0, SCALE).padEnd(SCALE, '0');
  const n = BigInt(m[2] + frac);
  return m[1] ? -n : n;
}

/** -1, 0 or 1, like a sort comparator; unparsable values sort last. */
export function compareDecimal(a: string, b: string): number {
  const x = toNano(a);
  const y = toNano(b);
  if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `value / max` in permille (0..1000), for bar lengths. */
export function permilleOf(value: string, max: string): number {
  const v = toNano(value);
  const m = toNano(max);
  if (v === null || m === null || m <= 0n || v <= 0n) return 0;
  const p = (v * 1000n) / m;
  return Number(p > 1000n ? 1000n : p);
}
