import Link from 'next/link';
import type { Dict } from '@/lib/i18n/en';

export const OPERATOR_PAGES = [
  ['members', '/operator/members'],
  ['assessors', '/operator/assessors'],
  ['fees', '/operator/fees'],
  ['reconciliation', '/operator/reconciliation'],
  ['deadLetters', '/operator/dead-letters'],
  ['health', '/operator/health'],
] as const;

/** The operator console's sections, as a secondary navigation. */
export function OperatorNav({ t, current }: { t: Dict; current?: string }) {
  return (
    <nav className="sub-nav" aria-label={t.j.operator.heading}>
      {OPERATOR_PAGES.map(([key, href]) => (
        <Link key={key} href={href} aria-current={current === key ? 'page' : undefined}>
          {t.j.operator[key]}
        </Link>
      ))}
    </nav>
  );
}
