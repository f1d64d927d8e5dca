import type { CredibilitySummary, CredibilityView } from '@suanli/contracts';
import type { Dict } from '@/lib/i18n/en';
import type { Lang } from '@/lib/i18n';
import { formatDateTime } from '@/lib/format';

/** Scores are shown with one decimal; confidence as a whole percentage. */
export const scoreText = (score: number): string => score.toFixed(1);
export const confidenceText = (c: number): string => `${Math.round(c * 100)} %`;
const evidenceText = (x: number): string => (x === 0 ? '0' : x.toFixed(3));

function tone(score: number): string {
  if (score >= 80) return 'badge-active';
  if (score >= 50) return 'badge-pending';
  return 'badge-closed';
}

/** A compact score (catalog rows): "82.4" and its confidence, or "not rated". */
export function ScoreBadge({
  credibility,
  t,
}: {
  credibility: CredibilitySummary | null;
  t: Dict;
}) {
  if (!credibility) {
    return (
      <span className="muted small" data-testid="credibility-score">
        {t.credibility.none}
      </span>
    );
  }
  return (
    <span data-testid="credibility-score">
      <span className={`badge ${tone(credibility.score)}`}>{scoreText(credibility.score)}</span>
      <div className="muted small">
        {t.credibility.confidenceOf(confidenceText(credibility.confidence))}
      </div>
    </span>
  );
}

/** The full explanation (offer page): score, confidence, breakdown, contributions, history. */
export function CredibilityPanel({
  view,
  seller,
  t,
  lang,
}: {
  view: CredibilityView;
  seller: CredibilityView | null;
  t: Dict;
  lang: Lang;
}) {
  const c = t.credibility;
  return (
    <section className="card" data-testid="credibility-panel">
      <h2>{c.heading}</h2>
      <dl className="facts">
        <dt>{c.score}</dt>
        <dd>
          <span className={`badge ${tone(view.score)}`} data-testid="credibility-panel-score">
            {scoreText(view.score)}
          </span>{' '}
          <span className="muted small">/ 100</span>
        </dd>
        <dt>{c.confidence}</dt>
        <dd>{confidenceText(view.confidence)}</dd>
        {seller ? (
          <>
            <dt>{c.seller}</dt>
            <dd>
              {scoreText(seller.score)} · {c.confidenceOf(confidenceText(seller.confidence))}
            </dd>
          </>
        ) : null}
        <dt>{c.formula}</dt>
        <dd className="mono">{view.formulaVersion}</dd>
        <dt>{c.computedAt}</dt>
        <dd>{formatDateTime(view.computedAt, lang)}</dd>
      </dl>

      <h3>{c.breakdown}</h3>
      <table className="table compact" data-testid="credibility-breakdown">
        <thead>
          <tr>
            <th scope="col">{c.kind}</th>
            <th scope="col" className="num">
              {c.positive}
            </th>
            <th scope="col" className="num">
              {c.negative}
            </th>
            <th scope="col" className="num">
              {c.items}
            </th>
          </tr>
        </thead>
        <tbody>
          {view.breakdown.map((b) => (
            <tr key={b.kind}>
              <td>{c.kinds[b.kind] ?? b.kind}</td>
              <td className="num">{evidenceText(b.r)}</td>
              <td className="num">{evidenceText(b.s)}</td>
              <td className="num">{b.items}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {view.contributions.length > 0 ? (
        <details>
          <summary>
            {c.contributions} ({view.contributions.length})
          </summary>
          <ul className="plain small">
            {view.contributions.map((x) => (
              <li key={`${x.kind}-${x.ref}`}>
                {c.kinds[x.kind] ?? x.kind}: {x.label} · +{evidenceText(x.r)} / −{evidenceText(x.s)}{' '}
                · {formatDateTime(x.at, lang)}
              </li>
            ))}
          </ul>
        </details>
      ) : null}

      {view.history.length > 1 ? (
        <details>
          <summary>{c.history}</summary>
          <ul className="plain small">
            {view.history.slice(0, 20).map((h) => (
              <li key={h.computedAt}>
                {formatDateTime(h.computedAt, lang)}: {scoreText(h.score)} (
                {confidenceText(h.confidence)})
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <p className="muted small">
        {c.evidenceHelp(`/v1/credibility/resources/${view.subject.id}/evidence`)}
      </p>
    </section>
  );
}
