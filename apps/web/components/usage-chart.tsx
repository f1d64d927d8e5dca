import type { UsagePoint } from '@suanli/contracts';
import { seriesOf } from '@/lib/usage-series';

export { totalsOf } from '@/lib/usage-series';

const COLORS = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#4b5563'];
const W = 640;
const H = 200;
const PAD = { l: 8, r: 8, t: 10, b: 22 };

/**
 * A server-rendered SVG line chart of usage per unit (each unit scaled to its own maximum, so
 * units of different sizes share one chart); no client JavaScript.
 */
export function UsageChart({
  points,
  labels,
  unitLabel,
  lang,
}: {
  points: UsagePoint[];
  labels: { empty: string; chart: string };
  unitLabel: (unit: string) => string;
  lang: string;
}) {
  const series = seriesOf(points);
  if (series.size === 0) return <p className="empty">{labels.empty}</p>;
  const all = [...series.values()].flat();
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => PAD.l + ((t - t0) / span) * (W - PAD.l - PAD.r);
  const fmtTime = (t: number) =>
    new Date(t).toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'UTC',
    });
  return (
    <figure className="usage-chart" data-testid="usage-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={labels.chart} width="100%">
        <line x1={PAD.l} x2={W - PAD.r} y1={H - PAD.b} y2={H - PAD.b} stroke="#9ca3af" />
        {[...series.entries()].map(([unit, list], i) => {
          const max = Math.max(...list.map((p) => p.q)) || 1;
          const y = (q: number) => H - PAD.b - (q / max) * (H - PAD.t - PAD.b);
          const d = list
            .map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.q).toFixed(1)}`)
            .join(' ');
          const color = COLORS[i % COLORS.length];
          return (
            <g key={unit} data-unit={unit}>
              <path d={d} fill="none" stroke={color} strokeWidth={2} />
              {list.length === 1 ? (
                <circle cx={x(list[0].t)} cy={y(list[0].q)} r={3} fill={color} />
              ) : null}
            </g>
          );
        })}
        <text x={PAD.l} y={H - 6} fontSize="11" fill="#6b7280">
          {fmtTime(t0)} UTC
        </text>
        <text x={W - PAD.r} y={H - 6} fontSize="11" fill="#6b7280" textAnchor="end">
          {fmtTime(t1)} UTC
        </text>
      </svg>
      <figcaption className="small">
        {[...series.keys()].map((unit, i) => (
          <span key={unit} style={{ marginRight: '1em' }}>
            <span style={{ color: COLORS[i % COLORS.length] }}>■</span> {unitLabel(unit)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
