/**
 * Results over time for one metric (GET .../results/timeseries): the cumulative lift of each treatment
 * against the control with its interval as a band, and the units of every variation (a split drifting
 * from the expected one shows at a glance). Polled like the figures; the charts redraw in place.
 */
import { useMemo } from 'preact/hooks';
import type { AlignedData } from 'uplot';
import type { Api } from '../api.ts';
import type { Interval, TimeseriesAnswer } from '../api-types.ts';
import { formatConfidence, formatCount, formatDateTime, formatInterval, formatLift } from '../format.ts';
import { colourOf, translucent } from '../palette.ts';
import type { Figures, SeriesInterval } from '../route.ts';
import { usePoll } from '../use-poll.ts';
import { Figure, IntervalFigure } from './figure.tsx';
import { ErrorNote } from './notes.tsx';
import { TimeChart } from './time-chart.tsx';
import type { SeriesSpec } from './time-chart.tsx';

export const SERIES_REFRESH_MS = 10_000;

export function OverTime(props: {
  api: Api;
  experiment: string;
  /** Metric ids (or the event) the charts can show. */
  choices: string[];
  metric: string;
  interval: SeriesInterval;
  /** Variation order (control first) for stable colours. */
  variations: string[];
  /** The figures the page shows: the bands follow them when the series has sequential intervals. */
  figures: Figures;
  /** The metric has CUPED figures in its block, which the time series does not carry: say so. */
  cuped?: boolean;
  onChange: (metric: string, interval: SeriesInterval) => void;
}) {
  const { api, experiment, metric, interval } = props;
  const series = usePoll<TimeseriesAnswer>(
    `${experiment}\u0000${metric}\u0000${interval}`,
    (signal) => api.timeseries(experiment, { metric, interval }, signal),
    SERIES_REFRESH_MS,
  );
  const answer = series.data;
  const sequential =
    props.figures === 'sequential' &&
    (answer?.points.some((p) =>
      p.variations.some((v) => v.sequential !== undefined && v.sequential !== null),
    ) ??
      false);
  const charts = useMemo(
    () => (answer === undefined ? undefined : chartsOf(answer, props.variations, sequential)),
    [answer, props.variations.join(','), sequential],
  );

  return (
    <section class="over-time card" aria-labelledby="over-time-h" data-section="over-time">
      <div class="section-head">
        <h2 id="over-time-h">Over time</h2>
        <div class="controls">
          <label>
            Metric{' '}
            <select
              value={metric}
              onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value, interval)}
            >
              {props.choices.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          <label>
            Every{' '}
            <select
              value={interval}
              onChange={(e) =>
                props.onChange(metric, (e.currentTarget as HTMLSelectElement).value as SeriesInterval)
              }
            >
              <option value="hour">hour</option>
              <option value="day">day</option>
            </select>
          </label>
        </div>
      </div>
      <ErrorNote error={series.error} stale={answer !== undefined} />
      {charts === undefined ? (
        series.error === undefined && <p class="muted">Loading the results over time…</p>
      ) : (
        <>
          <p class="definition">
            As the results stood at each {answer?.interval} boundary (UTC) and now: cumulative, so the last
            point is today’s figure. Bands are {formatConfidence(answer?.confidence ?? 0.95)}{' '}
            {sequential
              ? 'sequential intervals, valid at every point however often they are read.'
              : 'fixed-horizon intervals: each is valid for its own point read alone, not as a path to watch.'}
            {props.cuped === true &&
              ' These lifts are unadjusted: the results over time have no CUPED figures, so the last point differs from the CUPED-adjusted lift above.'}
          </p>
          <div class="charts">
            <TimeChart
              id="lift-chart"
              title={`Cumulative lift of ${metric} against ${answer?.control}`}
              summary={charts.liftSummary}
              data={charts.liftData}
              series={charts.liftSeries}
              bands={charts.bands}
              yFormat={formatLift}
              readout={charts.liftReadout}
            />
            <TimeChart
              id="units-chart"
              title="Units per variation"
              summary={charts.unitsSummary}
              data={charts.unitsData}
              series={charts.unitsSeries}
              yFormat={(v) => formatCount(v)}
              readout={charts.unitsReadout}
            />
          </div>
          <details class="series-table">
            <summary>The figures over time as a table</summary>
            <SeriesTable answer={answer as TimeseriesAnswer} sequential={sequential} />
          </details>
        </>
      )}
    </section>
  );
}

interface Charts {
  liftData: AlignedData;
  liftSeries: SeriesSpec[];
  bands: { upper: number; lower: number; fill: string }[];
  liftSummary: string;
  liftReadout: (i: number) => string;
  unitsData: AlignedData;
  unitsSeries: SeriesSpec[];
  unitsSummary: string;
  unitsReadout: (i: number) => string;
}

/** uPlot's columns from the API's points; every value is the API's, only arranged. */
function chartsOf(answer: TimeseriesAnswer, order: string[], sequential: boolean): Charts {
  const points = answer.points;
  const x = points.map((p) => Date.parse(p.as_of) / 1000);
  const seen = [...new Set(points.flatMap((p) => p.variations.map((v) => v.variation)))];
  const names = [...order.filter((n) => seen.includes(n)), ...seen.filter((n) => !order.includes(n))];
  const colour = (name: string) => colourOf(Math.max(0, names.indexOf(name)));
  const at = (i: number, name: string) => points[i]?.variations.find((v) => v.variation === name);
  const ciAt = (i: number, name: string) => intervalOf(at(i, name), sequential);
  const treatments = names.filter((n) => n !== answer.control);
  const time = (i: number) => formatDateTime(points[i]?.as_of ?? null);

  const liftData: (number | null)[][] = [];
  const liftSeries: SeriesSpec[] = [];
  const bands: Charts['bands'] = [];
  for (const t of treatments) {
    const base = liftData.length + 1;
    liftData.push(points.map((_, i) => at(i, t)?.lift ?? null));
    liftData.push(points.map((_, i) => ciAt(i, t)?.[0] ?? null));
    liftData.push(points.map((_, i) => ciAt(i, t)?.[1] ?? null));
    liftSeries.push({ label: t, stroke: colour(t) });
    liftSeries.push({ label: `${t} lower`, stroke: translucent(colour(t), 0.45), width: 1, dash: [4, 3] });
    liftSeries.push({ label: `${t} upper`, stroke: translucent(colour(t), 0.45), width: 1, dash: [4, 3] });
    bands.push({ upper: base + 2, lower: base + 1, fill: translucent(colour(t), 0.14) });
  }
  const last = points.length - 1;
  const liftAt = (i: number) =>
    treatments
      .map((t) => `${t} ${formatLift(at(i, t)?.lift ?? null)} (${formatInterval(ciAt(i, t))})`)
      .join('; ');
  const unitsAt = (i: number) => names.map((n) => `${n} ${formatCount(at(i, n)?.units ?? null)}`).join('; ');
  return {
    liftData: [x, ...liftData] as AlignedData,
    liftSeries,
    bands,
    liftSummary: last < 0 ? 'No points yet.' : `Now: ${liftAt(last)}.`,
    liftReadout: (i) => `${time(i)}: ${liftAt(i)}`,
    unitsData: [x, ...names.map((n) => points.map((_, i) => at(i, n)?.units ?? null))] as AlignedData,
    unitsSeries: names.map((n) => ({ label: n, stroke: colour(n) })),
    unitsSummary: last < 0 ? 'No points yet.' : `Now: ${unitsAt(last)}.`,
    unitsReadout: (i) => `${time(i)}: ${unitsAt(i)}`,
  };
}

type SeriesVariation = TimeseriesAnswer['points'][number]['variations'][number];

/** The interval shown for a point: the sequential one when shown and sent, else the fixed-horizon one. */
function intervalOf(v: SeriesVariation | undefined, sequential: boolean): Interval | null {
  if (v === undefined) return null;
  return sequential && v.sequential !== undefined && v.sequential !== null ? v.sequential.lift_ci : v.lift_ci;
}

function SeriesTable(props: { answer: TimeseriesAnswer; sequential: boolean }) {
  const { answer } = props;
  const names = [...new Set(answer.points.flatMap((p) => p.variations.map((v) => v.variation)))];
  const treatments = names.filter((n) => n !== answer.control);
  return (
    <div class="table-wrap" tabIndex={0} aria-label="Figures over time">
      <table class="series">
        <thead>
          <tr>
            <th scope="col">As of</th>
            {names.map((n) => (
              <th key={n} scope="col" class="num">
                Units {n}
              </th>
            ))}
            {treatments.map((t) => (
              <th key={t} scope="col" class="num">
                Lift {t} (interval)
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[...answer.points].reverse().map((p) => (
            <tr key={p.as_of}>
              <th scope="row">
                <time dateTime={p.as_of}>{formatDateTime(p.as_of)}</time>
              </th>
              {names.map((n) => {
                const v = p.variations.find((x) => x.variation === n);
                return (
                  <td key={n} class="num">
                    <Figure
                      name="series-units"
                      value={v?.units ?? null}
                      text={formatCount(v?.units ?? null)}
                    />
                  </td>
                );
              })}
              {treatments.map((t) => {
                const v = p.variations.find((x) => x.variation === t);
                return (
                  <td key={t} class="num">
                    <Figure name="series-lift" value={v?.lift ?? null} text={formatLift(v?.lift ?? null)} />{' '}
                    <IntervalFigure
                      name="series-ci"
                      ci={v?.lift_ci ?? null}
                      text={`(${formatInterval(v?.lift_ci ?? null)})`}
                    />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
