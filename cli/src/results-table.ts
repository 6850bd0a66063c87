/**
 * An experiment's results as the terminal shows them: both answers of GET /v1/experiments/:e/results,
 * the "Results" shape of one event (?metric=) and the "Metric results" shape of catalogue metrics, with
 * or without a dimension. Pure: the API's JSON in, lines out; no figure is recomputed.
 *
 * Which comparison figures: the sequential (always-valid) ones by default, as the results page shows them,
 * since results are read again and again while an experiment runs; the fixed-horizon ones on request
 * (`--fixed-horizon`), or when the API sends no `sequential` block. A sentence under the header says which,
 * in the page's words.
 *
 * A CUPED metric (the block's `cuped` is set) shows its CUPED-adjusted lift, interval and p-values, as the
 * page does by default: the same lift estimated with less variance. A line under its title names CUPED, the
 * covariate and the API's variance reduction; the unadjusted figures are in `--json`.
 */
import type { Static } from '@sinclair/typebox';
import type { MetricResultsResponseSchema, ResultsResponseSchema } from '../../services/stats/src/index.ts';
import {
  formatCount,
  formatInterval,
  formatLift,
  formatNumber,
  formatPValue,
  formatRate,
  formatShare,
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
type MetricVariation = MetricBlock['variations'][number];
type Cuped = NonNullable<MetricVariation['cuped']>;
type Srm = MetricResults['srm'];

export const DEFAULT_CONFIDENCE = 0.95;

/** The comparison figures a table shows: the `sequential` block's, or the fixed-horizon fields. */
export type Figures = 'sequential' | 'fixed';

type Sequential = { lift_ci: number[] | null; p_value: number | null } | null | undefined;

/** Whether any treatment of the answer carries a `sequential` block (servers before it send none). */
export function hasSequential(body: EventResults | MetricResults): boolean {
  const rows: { sequential?: Sequential }[] =
    'variations' in body
      ? body.variations
      : [
          ...(body.metrics ?? []).flatMap((m) => m.variations),
          ...(body.values ?? []).flatMap((v) => v.metrics.flatMap((m) => m.variations)),
        ];
  return rows.some((v) => v.sequential !== null && v.sequential !== undefined);
}

/** What is shown: the request, when the API sent sequential figures at all; fixed-horizon otherwise. */
export function shownFigures(requested: Figures, body: EventResults | MetricResults): Figures {
  return hasSequential(body) ? requested : 'fixed';
}

/** The sentence saying which figures the tables show and why (the results page's wording). */
export function figuresSentence(shown: Figures, requested: Figures, confidence: number): string {
  const level = percent(confidence);
  if (shown === 'sequential') {
    return (
      `Showing sequential (always-valid) ${level} intervals and p-values: they stay valid however often you look. ` +
      'Fixed-horizon figures (--fixed-horizon) are valid only when read once, at a sample size fixed in advance.'
    );
  }
  if (requested === 'fixed') {
    return (
      `Showing fixed-horizon ${level} intervals and p-values: valid only when read once, at a sample size fixed ` +
      'in advance. Looking again and again while the experiment runs makes false positives likelier; the ' +
      'sequential figures (the default) do not have that problem.'
    );
  }
  return (
    `Showing fixed-horizon ${level} intervals and p-values: valid when read once, at a sample size fixed in ` +
    'advance. This stats service does not send sequential (always-valid) figures, so repeated looks at a ' +
    'running experiment overstate significance.'
  );
}

/** Prose in lines of at most `width` characters (a word longer than that gets a line of its own). */
export function wrapWords(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** A treatment's interval and p-value under the figures shown. */
function comparisonOf(
  v: { lift_ci: readonly number[] | null; p_value: number | null; sequential?: Sequential },
  figures: Figures,
): { ci: readonly number[] | null; p: number | null } {
  if (figures === 'fixed') return { ci: v.lift_ci, p: v.p_value };
  return { ci: v.sequential?.lift_ci ?? null, p: v.sequential?.p_value ?? null };
}

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
  requested: Figures = 'sequential',
): string[] {
  const figures = shownFigures(requested, body);
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
        ...comparisonCells({ isControl, lift: v.lift, ...comparisonOf(v, figures), confidence }),
      ];
    }),
    paint,
  );
  // The API has sequential figures for the conversion rate only: these p-values are always fixed-horizon.
  const perUnit = renderTable(
    [
      left('variation'),
      right('value/unit'),
      right('value lift'),
      right('fixed p'),
      left('significance (fixed)'),
      right('events/unit'),
      right('fixed p'),
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
    ...wrapWords(figuresSentence(figures, requested, confidence)),
    '',
    paint(
      `${body.metric}: conversion (${figures === 'sequential' ? 'sequential test' : 'two-proportion z-test'})`,
      'bold',
    ),
    ...conversion,
    '',
    paint(`${body.metric}: value per unit (Welch's t-test) and events per unit, fixed-horizon only`, 'bold'),
    ...perUnit,
  ];
}

/** The "Metric results" answer: one table per metric; with a dimension, the same for each value. */
export function metricResultsLines(
  body: MetricResults,
  paint: Paint,
  requested: Figures = 'sequential',
): string[] {
  const figures = shownFigures(requested, body);
  const head = [
    `${paint(`Experiment ${body.experiment}`, 'bold')} · project ${body.project} · control "${body.control}" · ` +
      `${percent(body.confidence)} confidence · computed ${formatTime(body.computed_at)}`,
    unitsLine(body.units, body.multiple_exposure_units),
    srmLine(body.srm, paint),
    ...wrapWords(figuresSentence(figures, requested, body.confidence)),
  ];
  const blocks = (metrics: readonly MetricBlock[]) =>
    metrics.flatMap((m) => ['', ...metricBlockLines(m, body.control, body.confidence, paint, figures)]);
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

function metricBlockLines(
  m: MetricBlock,
  control: string,
  confidence: number,
  paint: Paint,
  figures: Figures,
): string[] {
  const direction: Direction = m.direction === 'decrease' ? 'decrease' : 'increase';
  // Holm's adjustment of the fixed-horizon p-values only differs with two or more treatments; then
  // significance follows it. The sequential figures have no adjusted p-value.
  const adjusted = figures === 'fixed' && m.variations.length > 2;
  const columns: Column[] = [
    left('variation'),
    right('units'),
    right('conversions'),
    right(m.type === 'conversion' ? 'rate' : m.type === 'ratio' ? 'ratio' : 'mean'),
    ...comparisonColumns(`${percent(confidence)} interval`, adjusted),
  ];
  const cuped = isCuped(m);
  const rows = m.variations.map((v): Cell[] => {
    // The estimate stays the unadjusted mean (it describes the units); the comparison is the adjusted one.
    const compared = cuped ? cupedComparison(v.cuped) : v;
    return [
      v.variation,
      formatCount(v.units),
      formatCount(v.conversions),
      m.type === 'conversion' ? formatRate(v.estimate) : formatNumber(v.estimate),
      ...comparisonCells({
        isControl: v.variation === control,
        lift: compared.lift,
        ...comparisonOf(compared, figures),
        adjustedP: adjusted ? compared.adjusted_p_value : undefined,
        confidence,
        direction,
      }),
    ];
  });
  return [
    paint(metricTitle(m, figures), 'bold'),
    ...(cuped ? wrapWords(cupedSentence(m, control)) : []),
    ...renderTable(columns, rows, paint),
  ];
}

/** Whether the API sent CUPED figures for this metric (servers before CUPED send no `cuped` at all). */
function isCuped(m: MetricBlock): m is MetricBlock & { cuped: NonNullable<MetricBlock['cuped']> } {
  return m.cuped !== null && m.cuped !== undefined;
}

/** A variation's CUPED figures as a comparison; all null when the API has none for it (the control's). */
function cupedComparison(c: Cuped | null | undefined): {
  lift: number | null;
  lift_ci: readonly number[] | null;
  p_value: number | null;
  adjusted_p_value: number | null;
  sequential?: Sequential;
} {
  return c ?? { lift: null, lift_ci: null, p_value: null, adjusted_p_value: null, sequential: null };
}

/**
 * The line naming CUPED under a CUPED metric's title: what the covariate is and, per treatment, the API's
 * variance reduction of the lift's estimator. "revenue_cuped: CUPED-adjusted lift, interval and p-values,
 * using each unit's purchase value in the 14 days before its first exposure: variance reduced by 23.4%.".
 */
export function cupedSentence(m: MetricBlock, control: string): string {
  if (!isCuped(m)) return '';
  const covariate = `${m.event ?? '?'} ${m.type === 'count' ? 'events' : 'value'}`;
  const days = `${formatNumber(m.cuped.days)} ${m.cuped.days === 1 ? 'day' : 'days'}`;
  const treatments = m.variations.filter((v) => v.variation !== control);
  const reductions = treatments.map(
    (v) =>
      formatShare(v.cuped?.variance_reduction ?? null) + (treatments.length > 1 ? ` (${v.variation})` : ''),
  );
  const reduced = reductions.length === 0 ? 'not known yet' : `reduced by ${reductions.join(', ')}`;
  return (
    `CUPED-adjusted lift, interval and p-values, using each unit's ${covariate} in the ${days} before its ` +
    `first exposure: variance ${reduced} (unadjusted figures: --json).`
  );
}

/** "revenue: mean of purchase, capped at 120, guardrail, lower is better (Welch's t-test)". */
export function metricTitle(m: MetricBlock, figures: Figures = 'fixed'): string {
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
  const test = isCuped(m) ? CUPED_TEST : (TESTS[m.test] ?? m.test);
  const tested = figures === 'sequential' ? `sequential test; fixed-horizon: ${test}` : test;
  return `${m.metric}: ${what}, ${notes.join(', ')} (${tested})`;
}

/** The test of a CUPED metric's fixed-horizon p-values: gbstats' relative t-test on the adjusted figures. */
const CUPED_TEST = 'CUPED-adjusted relative t-test';

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
