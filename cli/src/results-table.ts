/**
 * An experiment's results as the terminal shows them: both answers of GET /v1/experiments/:e/results,
 * the "Results" shape of one event (?metric=) and the "Metric results" shape of catalogue metrics, with
 * or without a dimension. Pure: the API's JSON in, lines out; no figure is recomputed.
 */
import type { Static } from '@sinclair/typebox';
import type {
  MetricResultsResponseSchema,
  ResultsResponseSchema,
} from '../../services/stats/src/http/route-schemas.ts';
import {
  formatCount,
  formatInterval,
  formatLift,
  formatNumber,
  formatPValue,
  formatRate,
  formatTime,
  NONE,
  significance,
  SRM_ALARM_P,
  type Direction,
  type Verdict,
} from './figures.ts';
import { isRecord } from './stats-api.ts';
import { renderTable, type Cell, type Column, type Paint, type Style } from './text-table.ts';

/** The answer for one event (?metric=<event>). */
export type EventResults = Static<typeof ResultsResponseSchema>;
/** The answer for catalogue metrics (the experiment's metric set, or ?metrics=). */
export type MetricResults = Static<typeof MetricResultsResponseSchema>;
type MetricBlock = NonNullable<MetricResults['metrics']>[number];
type Srm = MetricResults['srm'];

export const DEFAULT_CONFIDENCE = 0.95;

/** Which of the two shapes an answer is, or undefined when it is neither (not the stats API). */
export function resultsShape(body: unknown): 'event' | 'metrics' | undefined {
  if (!isRecord(body) || typeof body['experiment'] !== 'string' || !isRecord(body['srm'])) return undefined;
  if (Array.isArray(body['variations']) && typeof body['metric'] === 'string') return 'event';
  if (Array.isArray(body['units']) && (Array.isArray(body['metrics']) || Array.isArray(body['values'])))
    return 'metrics';
  return undefined;
}

/** The "Results" answer of one event: its conversion table, then its value and count per unit. */
export function eventResultsLines(
  body: EventResults,
  paint: Paint,
  confidence = DEFAULT_CONFIDENCE,
): string[] {
  const interval = `${percent(confidence)} interval`;
  const conversion = renderTable(
    [left('variation'), right('units'), right('conversions'), right('rate'), ...comparisonColumns(interval)],
    body.variations.map((v) => {
      const isControl = v.variation === body.control;
      return [
        v.variation,
        formatCount(v.units),
        formatCount(v.conversions),
        formatRate(v.conversion_rate),
        ...comparisonCells({ isControl, lift: v.lift, ci: v.lift_ci, p: v.p_value, confidence }),
      ];
    }),
    paint,
  );
  const perUnit = renderTable(
    [
      left('variation'),
      right('value/unit'),
      right('value lift'),
      right('p-value'),
      left('significance'),
      right('events/unit'),
      right('p-value'),
    ],
    body.variations.map((v) => {
      const isControl = v.variation === body.control;
      const words = significance({
        isControl,
        lift: v.value_lift,
        pValue: v.value_p_value,
        confidence,
        direction: undefined,
      });
      return [
        v.variation,
        formatNumber(v.value_per_unit),
        isControl ? NONE : formatLift(v.value_lift),
        formatPValue(v.value_p_value),
        verdictCell(words),
        formatNumber(v.count_per_unit),
        formatPValue(v.count_p_value),
      ];
    }),
    paint,
  );
  return [
    `${paint(`Experiment ${body.experiment}`, 'bold')} · event ${body.metric} · control "${body.control}" · ` +
      `${percent(confidence)} confidence · computed ${formatTime(body.computed_at)}`,
    unitsLine(
      body.variations.map((v) => ({ variation: v.variation, units: v.units })),
      body.multiple_exposure_units,
    ),
    srmLine(body.srm, paint),
    '',
    paint(`${body.metric}: conversion (two-proportion z-test)`, 'bold'),
    ...conversion,
    '',
    paint(`${body.metric}: value per unit (Welch's t-test) and events per unit`, 'bold'),
    ...perUnit,
  ];
}

/** The "Metric results" answer: one table per metric; with a dimension, the same for each value. */
export function metricResultsLines(body: MetricResults, paint: Paint): string[] {
  const head = [
    `${paint(`Experiment ${body.experiment}`, 'bold')} · project ${body.project} · control "${body.control}" · ` +
      `${percent(body.confidence)} confidence · computed ${formatTime(body.computed_at)}`,
    unitsLine(body.units, body.multiple_exposure_units),
    srmLine(body.srm, paint),
  ];
  const blocks = (metrics: readonly MetricBlock[]) =>
    metrics.flatMap((m) => ['', ...metricBlockLines(m, body.control, body.confidence, paint)]);
  if (body.values === undefined) return [...head, ...blocks(body.metrics ?? [])];
  return [
    ...head,
    ...body.values.flatMap((value) => [
      '',
      paint(`${body.dimension ?? 'dimension'} = ${value.value}`, 'bold'),
      unitsLine(value.units, value.multiple_exposure_units),
      srmLine(value.srm, paint),
      ...blocks(value.metrics).map((line) => (line === '' ? line : `  ${line}`)),
    ]),
  ];
}

function metricBlockLines(m: MetricBlock, control: string, confidence: number, paint: Paint): string[] {
  const direction: Direction = m.direction === 'decrease' ? 'decrease' : 'increase';
  // Holm's adjustment only differs with two or more treatments; then significance follows it.
  const adjusted = m.variations.length > 2;
  const columns: Column[] = [
    left('variation'),
    right('units'),
    right('conversions'),
    right(m.type === 'conversion' ? 'rate' : m.type === 'ratio' ? 'ratio' : 'mean'),
    ...comparisonColumns(`${percent(confidence)} interval`, adjusted),
  ];
  const rows = m.variations.map((v): Cell[] => [
    v.variation,
    formatCount(v.units),
    formatCount(v.conversions),
    m.type === 'conversion' ? formatRate(v.estimate) : formatNumber(v.estimate),
    ...comparisonCells({
      isControl: v.variation === control,
      lift: v.lift,
      ci: v.lift_ci,
      p: v.p_value,
      adjustedP: adjusted ? v.adjusted_p_value : undefined,
      confidence,
      direction,
    }),
  ]);
  return [paint(metricTitle(m), 'bold'), ...renderTable(columns, rows, paint)];
}

/** "revenue: mean of purchase, capped at 120, guardrail, lower is better (Welch's t-test)". */
export function metricTitle(m: MetricBlock): string {
  const what =
    m.type === 'ratio'
      ? `ratio ${m.numerator ?? '?'} / ${m.denominator ?? '?'}`
      : `${m.type} of ${m.event ?? '?'}`;
  const notes = [
    m.window === null
      ? undefined
      : `within ${m.window.hours} h of exposure${m.window.delay_hours > 0 ? ` after ${m.window.delay_hours} h` : ''}`,
    m.cap_value === null ? undefined : `capped at ${formatNumber(m.cap_value)}`,
    m.guardrail ? 'guardrail' : 'goal',
    m.direction === 'decrease' ? 'lower is better' : undefined,
  ].filter((n) => n !== undefined);
  return `${m.metric}: ${what}, ${notes.join(', ')} (${TESTS[m.test] ?? m.test})`;
}

const TESTS: Record<string, string> = {
  two_proportion_z: 'two-proportion z-test',
  welch_t: "Welch's t-test",
  gbstats_relative_t: 'relative t-test',
};

function comparisonColumns(interval: string, adjusted = false): Column[] {
  return [
    right('lift'),
    right(interval),
    right('p-value'),
    ...(adjusted ? [right('adj. p')] : []),
    left('significance'),
  ];
}

function comparisonCells(v: {
  isControl: boolean;
  lift: number | null;
  ci: readonly number[] | null;
  p: number | null;
  /** Holm-adjusted p-value, given when it is the one to judge by. */
  adjustedP?: number | null | undefined;
  confidence: number;
  direction?: Direction;
}): Cell[] {
  const words = significance({
    isControl: v.isControl,
    lift: v.lift,
    pValue: v.adjustedP === undefined ? v.p : v.adjustedP,
    confidence: v.confidence,
    direction: v.direction,
  });
  const style = VERDICT_STYLES[words.verdict];
  return [
    { text: formatLift(v.lift), style },
    formatInterval(v.ci),
    formatPValue(v.p),
    ...(v.adjustedP === undefined ? [] : [formatPValue(v.adjustedP)]),
    verdictCell(words),
  ];
}

const VERDICT_STYLES: Record<Verdict, Style | undefined> = {
  control: 'dim',
  untested: 'dim',
  'not significant': undefined,
  better: 'green',
  worse: 'red',
  changed: 'yellow',
};

function verdictCell(words: { verdict: Verdict; words: string }): Cell {
  return { text: words.words, style: VERDICT_STYLES[words.verdict] };
}

function unitsLine(units: readonly { variation: string; units: number }[], multiple: number): string {
  const list = units.map((u) => `${u.variation} ${formatCount(u.units)}`).join(', ');
  return `Units: ${list || 'none'} (exposed to several variations, left out: ${formatCount(multiple)})`;
}

/** The sample-ratio check in one line; red and in capitals when the split is broken. */
export function srmLine(srm: Srm, paint: Paint): string {
  if (srm.p_value === null) return 'Sample ratio: not tested (fewer than two variations with units)';
  const split = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([variation, n]) => `${variation} ${formatNumber(n)}`)
      .join(', ');
  const figures = `p = ${formatPValue(srm.p_value)}; observed ${split(srm.observed)}; expected ${split(srm.expected)}`;
  if (srm.p_value >= SRM_ALARM_P) return `Sample ratio: as expected (${figures})`;
  return paint(
    `SAMPLE RATIO MISMATCH (${figures}): units did not split as configured; do not trust these results until the cause is found`,
    'red',
  );
}

function percent(confidence: number): string {
  return `${Number((confidence * 100).toFixed(2))}%`;
}

function left(header: string): Column {
  return { header, align: 'left' };
}

function right(header: string): Column {
  return { header, align: 'right' };
}
