/**
 * The forest plot of one metric: per treatment, the lift against the control (a dot) and its interval
 * (a bar), on one axis with the zero line, coloured by the significance in words beside it. SVG drawn to
 * the container's width (so text is never stretched); the same figures are in the table next to it and
 * in the plot's description for screen readers.
 */
import { useRef } from 'preact/hooks';
import { formatInterval, formatLift } from '../format.ts';
import type { VerdictKind } from '../figures.ts';
import { domainWithZero, linear, niceTicks } from '../scale.ts';
import { useWidth } from '../use-width.ts';

export interface ForestRow {
  label: string;
  lift: number | null;
  ci: readonly [number, number] | null;
  kind: VerdictKind;
}

const ROW = 30;
const AXIS = 26;

export function ForestPlot(props: { id: string; title: string; rows: ForestRow[] }) {
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const values = props.rows.flatMap((r) => [...(r.ci ?? []), ...(r.lift === null ? [] : [r.lift])]);
  const domain = domainWithZero(values);
  const labelWidth = Math.min(130, Math.round(width * 0.3));
  // Room on the right for half of the last tick's label.
  const x = linear(domain, labelWidth + 10, width - 30);
  const height = props.rows.length * ROW + AXIS;
  const ticks = niceTicks(domain, width < 420 ? 4 : 6);
  const description = props.rows
    .map((r) => `${r.label}: lift ${formatLift(r.lift)}, interval ${formatInterval(r.ci)}`)
    .join('; ');

  return (
    <div class="forest" ref={box}>
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby={`${props.id}-title ${props.id}-desc`}
        data-chart="forest"
      >
        <title id={`${props.id}-title`}>{props.title}</title>
        <desc id={`${props.id}-desc`}>{description}</desc>
        {ticks.map((t) => (
          <g key={t} class="fp-tick">
            <line x1={x(t)} x2={x(t)} y1={0} y2={height - AXIS + 4} />
            <text x={x(t)} y={height - 8} text-anchor="middle">
              {formatLift(t)}
            </text>
          </g>
        ))}
        <line class="fp-zero" x1={x(0)} x2={x(0)} y1={0} y2={height - AXIS + 4} />
        {props.rows.map((r, i) => {
          const y = i * ROW + ROW / 2;
          return (
            <g key={r.label} class={`fp-row fp-${r.kind}`}>
              <text class="fp-label" x={labelWidth} y={y + 4} text-anchor="end">
                {r.label.length > 18 ? `${r.label.slice(0, 17)}…` : r.label}
              </text>
              {r.ci !== null && (
                <rect
                  class="fp-ci"
                  x={x(r.ci[0])}
                  y={y - 4}
                  width={Math.max(1, x(r.ci[1]) - x(r.ci[0]))}
                  height={8}
                  rx={4}
                />
              )}
              {r.lift !== null && <circle class="fp-point" cx={x(r.lift)} cy={y} r={5} />}
              {r.ci === null && r.lift === null && (
                <text class="fp-none" x={x(0) + 8} y={y + 4}>
                  not enough data
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
