// Exact fixed-point arithmetic on BigInt for the metering hot path. A plain decimal string
// "123.45" is the pair (12345n, 2). computeUnits through decimal.js costs ~20-60 µs per event;
// these few operations on BigInt give the same digits (the property tests compare every result
// with the Decimal path) at a fraction of it.

/** A non-negative plain decimal (no sign, exponent or spaces), at most 200 characters. */
const PLAIN = /^\d+(\.\d+)?$/;
const MAX_LENGTH = 200;

/** `n / 10^scale`. */
export interface Scaled {
  n: bigint;
  scale: number;
}

const POW10: bigint[] = [1n];
/** 10^k as a BigInt (memoized). */
export function pow10(k: number): bigint {
  for (let i = POW10.length; i <= k; i++) POW10.push(POW10[i - 1] * 10n);
  return POW10[k];
}

/** Parsed quantities by their text (a bounded memo: usage figures repeat across events). */
const PARSED = new Map<string, Scaled | undefined>();

/**
 * Parses a non-negative plain decimal string; undefined for anything else (the caller falls
 * back). The result is shared (memoized) and never to be mutated.
 */
export function parseScaled(s: unknown): Scaled | undefined {
  if (typeof s !== 'string' || s.length > MAX_LENGTH) return undefined;
  if (PARSED.has(s)) return PARSED.get(s);
  let out: Scaled | undefined;
  if (PLAIN.test(s)) {
    const dot = s.indexOf('.');
    out = Object.freeze(
      dot < 0
        ? { n: BigInt(s), scale: 0 }
        : { n: BigInt(s.slice(0, dot) + s.slice(dot + 1)), scale: s.length - dot - 1 },
    );
  }
  if (PARSED.size >= 4096) PARSED.clear();
  PARSED.set(s, out);
  return out;
}

/** `a × b`, exactly. */
export function mulScaled(a: Scaled, b: Scaled): Scaled {
  return { n: a.n * b.n, scale: a.scale + b.scale };
}

/** `a + b`, exactly. */
export function addScaled(a: Scaled, b: Scaled): Scaled {
  if (a.scale === b.scale) return { n: a.n + b.n, scale: a.scale };
  return a.scale > b.scale
    ? { n: a.n + b.n * pow10(a.scale - b.scale), scale: a.scale }
    : { n: a.n * pow10(b.scale - a.scale) + b.n, scale: b.scale };
}

/** `a / divisor` rounded half-even to `dp` places, as a fixed string ("1.600000000"). */
export function divToFixedHalfEven(a: Scaled, divisor: bigint, dp: number): string {
  // a.n / (10^scale × divisor) × 10^dp, half-even on the remainder.
  let num = a.n * pow10(dp);
  let den = divisor;
  if (a.scale > 0) den *= pow10(a.scale);
  let q = num / den;
  const r2 = (num - q * den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) q += 1n;
  num = q; // reuse: the rounded quotient in units of 10^-dp
  const digits = num.toString().padStart(dp + 1, '0');
  return dp === 0 ? digits : `${digits.slice(0, -dp)}.${digits.slice(-dp)}`;
}

/** `a > limit × 10^0`, i.e. compares a scaled decimal with a non-negative integer. */
export function scaledGreaterThan(a: Scaled, limit: bigint): boolean {
  return a.n > limit * pow10(a.scale);
}
