import { Money } from '@suanli/money';

/**
 * An amount as an assessor sees it: its order of magnitude, never the figure. `0`, `0–1`,
 * `1–10`, `10–100`, … (lower bound inclusive, upper exclusive), from the decimal string alone.
 */
export function bandAmount(value: string, currency: string): string {
  const m = Money.of(value, currency);
  if (m.isZero()) return '0';
  const sign = m.isNegative() ? '-' : '';
  const abs = m.isNegative() ? m.negated().toString() : m.toString();
  const intPart = abs.split('.')[0].replace(/^0+/, '');
  if (intPart === '') return `${sign}0–1`;
  const lower = `1${'0'.repeat(intPart.length - 1)}`;
  return `${sign}${lower}–${lower}0`;
}

const AMOUNT_FIELDS = ['gross', 'fee', 'net', 'subtotal', 'credits', 'total', 'amount'];
const DROPPED = ['lines', 'sellerShare', 'platformShare', 'creditPercent', 'debitNotes', 'number'];

/** A pseudonymized log record with amounts banded and line detail dropped (assessor view). */
export function bandRecord(record: Record<string, unknown>): Record<string, unknown> {
  const cur = typeof record.currency === 'string' ? record.currency : 'CNY';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (DROPPED.includes(k)) continue;
    out[k] = AMOUNT_FIELDS.includes(k) && typeof v === 'string' ? bandAmount(v, cur) : v;
  }
  out.banded = true;
  return out;
}
