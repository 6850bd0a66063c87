/**
 * A time chart drawn by uPlot on a canvas: lines, and interval bands between two series. The chart is
 * created once per set of series and then only given new data (`setData`), so a refresh redraws in place
 * without a blank frame; it follows the container's width. Canvas is invisible to assistive technology,
 * so the chart is an image labelled with its title and latest figures, and a readout line says the
 * values under the cursor.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { AlignedData, Axis, Options } from 'uplot';
import { useWidth } from '../use-width.ts';

export interface SeriesSpec {
  label: string;
  stroke: string;
  width?: number;
  dash?: number[];
}

export interface TimeChartProps {
  id: string;
  title: string;
  /** What the chart shows now, for screen readers (latest figures). */
  summary: string;
  data: AlignedData;
  series: SeriesSpec[];
  /** Fills between series [upper index, lower index] (indices into `data`). */
  bands?: { upper: number; lower: number; fill: string }[];
  yFormat: (value: number) => string;
  /** The values at a point, for the cursor readout. */
  readout: (index: number) => string;
  height?: number;
}

const AXIS = {
  stroke: '#374151',
  font: '12px system-ui, sans-serif',
  grid: { stroke: '#e5e7eb', width: 1 },
  ticks: { stroke: '#d1d5db', width: 1 },
};

/** The y axis as wide as its longest label (uPlot's own recipe: measured on the chart's canvas). */
const labelWidth: Axis.Size = (self, values, axisIdx, cycleNum) => {
  const axis = self.axes[axisIdx] as Axis & { _size?: number };
  if (cycleNum > 1 && axis._size !== undefined) return axis._size;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  self.ctx.font = AXIS.font;
  const text = longest === '' ? 0 : self.ctx.measureText(longest).width;
  return Math.ceil(text + 18);
};

export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLParagraphElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const width = useWidth(box);
  const height = props.height ?? 220;
  const structure = JSON.stringify([props.series, props.bands ?? []]);

  useEffect(() => {
    const target = plot.current;
    if (target === null) return;
    const options: Options = {
      width,
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { ...AXIS },
        { ...AXIS, size: labelWidth, values: (_u, ticks) => ticks.map((t) => latest.current.yFormat(t)) },
      ],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: s.width ?? 2,
          ...(s.dash === undefined ? {} : { dash: s.dash }),
          spanGaps: false,
        })),
      ],
      bands: (props.bands ?? []).map((b) => ({
        series: [b.upper, b.lower] as [number, number],
        fill: b.fill,
      })),
      hooks: {
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (readout.current !== null) {
              readout.current.textContent = i === null || i === undefined ? '' : latest.current.readout(i);
            }
          },
        ],
      },
    };
    chart.current = new uPlot(options, latest.current.data, target);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [structure]);

  useEffect(() => {
    chart.current?.setData(props.data);
  }, [props.data]);

  useEffect(() => {
    chart.current?.setSize({ width, height });
  }, [width, height]);

  return (
    <figure class="time-chart" ref={box} aria-labelledby={`${props.id}-caption`}>
      <figcaption id={`${props.id}-caption`}>{props.title}</figcaption>
      <ul class="legend" aria-hidden="true">
        {props.series
          .filter((s) => s.dash === undefined)
          .map((s) => (
            <li key={s.label}>
              <svg width="14" height="10" class="swatch">
                <rect width="14" height="10" rx="2" fill={s.stroke} />
              </svg>
              {s.label}
            </li>
          ))}
      </ul>
      <div ref={plot} role="img" aria-label={`${props.title}. ${props.summary}`} data-chart={props.id} />
      <p class="readout" ref={readout} aria-hidden="true" />
    </figure>
  );
}
