/**
 * Display formatting for decimal strings. Money never goes through binary floats: amounts are
 * grouped and padded as strings, never rounded or truncated.
 */

export type Lang = 'zh' | 'en';

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

const SYMBOLS: Record<string, string> = {
  CNY: '¥',
  USD: 'US$',
  EUR: '€',
  HKD: 'HK$',
  GBP: '£',
  JPY: 'JP¥',
  SGD: 'S$',
};

/** Minor-unit digits for currencies that do not use two. */
const MINOR_DIGITS: Record<string, number> = { JPY: 0, KRW: 0, VND: 0, BHD: 3, KWD: 3, JOD: 3 };

/** Groups thousands of a decimal string: "1234567.5" → "1,234,567.5". Non-decimals pass through. */
export function formatDecimal(value: string, minFractionDigits = 0): string {
  const m = DECIMAL.exec(value.trim());
  if (!m) return value;
  const sign = m[1] ?? '';
  const int = m[2].replace(/^0+(?=\d)/, '');
  let frac = m[3] ?? '';
  if (frac.length < minFractionDigits) frac = frac.padEnd(minFractionDigits, '0');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}${frac ? `.${frac}` : ''}`;
}

/** "1234.5", "CNY" → "¥1,234.50". Extra precision (unit prices) is kept, never rounded. */
export function formatMoney(amount: string, currency: string): string {
  const m = DECIMAL.exec(amount.trim());
  if (!m) return `${amount} ${currency}`;
  const body = formatDecimal(amount.trim().replace(/^-/, ''), MINOR_DIGITS[currency] ?? 2);
  const symbol = SYMBOLS[currency];
  return `${m[1] ?? ''}${symbol ?? `${currency} `}${body}`;
}

/** True when the decimal string is zero ("0", "0.00"). */
export function isZero(amount: string): boolean {
  return /^-?0+(\.0+)?$/.test(amount.trim());
}

const LOCALES: Record<Lang, string> = { zh: 'zh-CN', en: 'en-GB' };

/** ISO timestamp → "28 Nov 2026, 08:00 UTC" / "2026年11月28日 08:00 UTC". */
export function formatDateTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = new Intl.DateTimeFormat(LOCALES[lang], {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
    hourCycle: 'h23',
  }).format(d);
  return `${s} UTC`;
}

export function formatDate(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

/**
 * A fraction as a percentage, on the string: "0.05" → "5", "0.125" → "12.5", "0" → "0".
 * (The unit sign is added by the caller's translation.)
 */
export function formatPercent(fraction: string): string {
  const m = DECIMAL.exec(fraction.trim());
  if (!m) return fraction;
  const frac = (m[3] ?? '').padEnd(2, '0');
  const int = (m[2] + frac.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = frac.slice(2).replace(/0+$/, '');
  return `${m[1] ?? ''}${formatDecimal(int)}${rest ? `.${rest}` : ''}`;
}
