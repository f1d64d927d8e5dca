import type { ChartSeries } from '@/lib/stats-chart';

const COLORS = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#4b5563'];
const W = 640;
const H = 220;
const PAD = { l: 56, r: 8, t: 10, b: 24 };

/** A server-rendered SVG line chart; suppressed cells are gaps marked with a hollow dot. */
export function StatsChart({
  series,
  title,
  lang,
  suppressedLabel,
}: {
  series: ChartSeries[];
  title: string;
  lang: string;
  suppressedLabel: string;
}) {
  const pts = series.flatMap((s) => s.points);
  const values = pts.flatMap((p) => (p.v === null ? [] : [p.v]));
  const t0 = Math.min(...pts.map((p) => p.t));
  const t1 = Math.max(...pts.map((p) => p.t));
  const max = Math.max(...values, 0) || 1;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => PAD.l + ((t - t0) / span) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const maxLabel = pts.find((p) => p.v === max)?.label ?? '';
  const day = (t: number) =>
    new Date(t).toLocaleDateString(lang === 'zh' ? 'zh-CN' : 'en-GB', {
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    });
  return (
    <figure className="usage-chart stats-chart" data-testid="stats-chart">
      <figcaption className="muted small">{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} width="100%">
        <line x1={PAD.l} x2={W - PAD.r} y1={H - PAD.b} y2={H - PAD.b} stroke="#9ca3af" />
        <line x1={PAD.l} x2={PAD.l} y1={PAD.t} y2={H - PAD.b} stroke="#9ca3af" />
        <text x={PAD.l - 4} y={PAD.t + 10} fontSize="11" fill="#6b7280" textAnchor="end">
          {maxLabel}
        </text>
        <text x={PAD.l - 4} y={H - PAD.b} fontSize="11" fill="#6b7280" textAnchor="end">
          0
        </text>
        {series.map((s, i) => {
          const color = COLORS[i % COLORS.length];
          // Break the line at every suppressed cell.
          const segments: string[] = [];
          let cur = '';
          for (const p of s.points) {
            if (p.v === null) {
              if (cur) segments.push(cur);
              cur = '';
              continue;
            }
            cur += `${cur ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)} `;
          }
          if (cur) segments.push(cur);
          return (
            <g key={s.key} data-series={s.key}>
              {segments.map((d) => (
                <path key={d} d={d} fill="none" stroke={color} strokeWidth={2} />
              ))}
              {s.points.map((p) =>
                p.v === null ? (
                  <circle
                    key={p.t}
                    cx={x(p.t)}
                    cy={H - PAD.b}
                    r={4}
                    fill="none"
                    stroke={color}
                    data-suppressed="true"
                  >
                    <title>{suppressedLabel}</title>
                  </circle>
                ) : (
                  <circle key={p.t} cx={x(p.t)} cy={y(p.v)} r={3} fill={color}>
                    <title>{p.label}</title>
                  </circle>
                ),
              )}
            </g>
          );
        })}
        <text x={PAD.l} y={H - 6} fontSize="11" fill="#6b7280">
          {day(t0)}
        </text>
        <text x={W - PAD.r} y={H - 6} fontSize="11" fill="#6b7280" textAnchor="end">
          {day(t1)}
        </text>
      </svg>
      <ul className="legend small">
        {series.map((s, i) => (
          <li key={s.key}>
            <span style={{ color: COLORS[i % COLORS.length] }}>■</span> {s.class} · {s.region}
          </li>
        ))}
      </ul>
    </figure>
  );
}
