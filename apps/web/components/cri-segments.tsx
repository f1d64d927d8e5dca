import type { Dict } from '@/lib/i18n';

// The positions of a CRI's segments when split at `:`; class and form share one.
const SEGMENT_INDEX: Record<string, number> = {
  scheme: 0,
  registrant: 1,
  industry: 2,
  location: 3,
  class: 4,
  form: 4,
  spec: 5,
  serial: 6,
  check: 7,
};

/**
 * A code the gateway refused, shown inline: its segments with the offending one marked, and
 * the rule it broke (for a wrong check character, the expected one).
 */
export function CriSegmentError({
  code,
  segment,
  reason,
  expected,
  t,
}: {
  code: string;
  segment: string;
  reason: string;
  expected?: string;
  t: Dict;
}) {
  const isHandle = !code.startsWith('CRI') && code.includes('/');
  const parts = isHandle ? code.split('/') : code.split(':');
  const bad = isHandle ? (segment === 'serial' ? 1 : 0) : SEGMENT_INDEX[segment];
  const separator = isHandle ? '/' : ':';
  return (
    <section
      className="notice notice-error"
      role="alert"
      data-testid="cri-segment-error"
      data-segment={segment}
    >
      <strong className="notice-title">{t.errors.codes.invalid_cri ?? t.cri.invalidCode}</strong>
      <p className="notice-body">{t.cri.invalidCode}</p>
      <p className="mono cri-segments">
        {parts.map((part, i) => (
          <span key={`${i}-${part}`}>
            {i > 0 ? separator : null}
            {i === bad || segment === 'length' ? (
              <mark className="cri-bad" title={t.cri.segments[segment] ?? segment}>
                {part || '∅'}
              </mark>
            ) : (
              part
            )}
          </span>
        ))}
      </p>
      <p className="notice-body">
        {t.cri.segment} <strong>{t.cri.segments[segment] ?? segment}</strong>: {reason}
        {expected ? ` (${t.cri.expected(expected)})` : null}
      </p>
    </section>
  );
}
