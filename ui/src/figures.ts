/**
 * The two results shapes of the API (one event's figures, or catalogue metric blocks) as one view: per
 * metric, per variation, the API's figures and, against the control, the fixed-horizon and (when the API
 * sends them) sequential comparisons with their significance in words, and for a CUPED metric the same
 * comparisons of its CUPED-adjusted figures. Pure: it picks and names the API's numbers, and never
 * computes a statistic; significance compares the API's p-value with the level the API's interval uses
 * (1 − confidence).
 */
import type {
  CupedFigures,
  EventResultsAnswer,
  Interval,
  MetricBlock,
  MetricVariation,
  SequentialFigures,
} from './api-types.ts';
import { formatValue } from './format.ts';
import type { Figures } from './route.ts';

/**
 * Which comparisons a CUPED metric shows: the CUPED-adjusted ones (the default: the same lift estimated
 * with less variance) or the unadjusted ones. Metrics without CUPED have only the unadjusted.
 */
export type Adjustment = 'cuped' | 'unadjusted';

export type VerdictKind = 'control' | 'none' | 'better' | 'worse' | 'neutral';

export interface Verdict {
  kind: VerdictKind;
  /** Significance in words, for the table and screen readers. */
  words: string;
}

export interface Comparison {
  lift: number | null;
  ci: Interval | null;
  p: number | null;
  /** Holm-adjusted over the metric's treatments (fixed-horizon only); null when not given. */
  adjustedP: number | null;
  verdict: Verdict;
  /** Sequential only: gbstats' tuning parameter the API used. */
  tuningParameter?: number;
}

export interface RowView {
  variation: string;
  control: boolean;
  units: number;
  conversions: number;
  estimate: number | null;
  /** Event answers only: value and count per unit, the value lift and its p-value. */
  event?: {
    valuePerUnit: number | null;
    countPerUnit: number | null;
    valueLift: number | null;
    valueP: number | null;
  };
  fixed: Comparison | null;
  sequential: Comparison | null;
  /** A CUPED metric's treatments only: the adjusted comparisons and the API's variance reduction. */
  cuped?: {
    fixed: Comparison;
    sequential: Comparison | null;
    /** 1 − V_adjusted / V_unadjusted of the lift estimator, as the API gives it (may be slightly < 0). */
    varianceReduction: number | null;
  };
}

/** A CUPED metric's covariate, as the block states it. */
export interface CupedView {
  /** The lookback before each unit's first exposure, in days (may be fractional: 0.1). */
  days: number;
  /** What the covariate sums, in words: “purchase” value, or “purchase” events. */
  covariate: string;
  /** The API's note on what the covariate covers and what retention leaves out. */
  note: string;
}

export interface MetricView {
  id: string;
  /** conversion, mean, count or ratio. */
  type: string;
  definition: string;
  guardrail: boolean;
  direction: 'increase' | 'decrease';
  test: string;
  confidence: number;
  rows: RowView[];
  /** Null unless the API sends CUPED figures for this metric. */
  cuped: CupedView | null;
}

/** The test behind the CUPED-adjusted fixed-horizon p-values (gbstats' relative TwoSidedTTest). */
export const CUPED_TEST = 'the CUPED-adjusted t-test of the relative difference';

const TESTS: Record<string, string> = {
  two_proportion_z: 'two-proportion z-test',
  welch_t: "Welch's t-test",
  gbstats_relative_t: 't-test of the relative difference',
};

/** Significance of one comparison, in words, from the API's p-value and lift. */
export function verdictOf(
  p: number | null,
  lift: number | null,
  confidence: number,
  direction: 'increase' | 'decrease',
): Verdict {
  if (p === null) return { kind: 'none', words: 'Not enough data' };
  // Rounded: 1 − 0.95 is 0.050000000000000044 in binary, which would call p = 0.05 significant.
  const alpha = Number((1 - confidence).toFixed(12));
  if (!(p < alpha)) return { kind: 'neutral', words: 'Not significant' };
  // A relative lift is undefined when the control's estimate is 0: the difference has no direction here.
  if (lift === null) return { kind: 'neutral', words: 'Significant (no relative lift: the control is at 0)' };
  const higher = lift > 0;
  const good = higher === (direction === 'increase');
  return {
    kind: good ? 'better' : 'worse',
    words: `Significantly ${higher ? 'higher' : 'lower'} (${good ? 'better' : 'worse'})`,
  };
}

function fixedOf(
  v: {
    lift: number | null;
    lift_ci: Interval | null;
    p_value: number | null;
    adjusted_p_value: number | null;
  },
  confidence: number,
  direction: 'increase' | 'decrease',
): Comparison {
  // With several treatments the decision uses the Holm-adjusted p-value, as the API intends.
  const decisive = v.adjusted_p_value ?? v.p_value;
  return {
    lift: v.lift,
    ci: v.lift_ci,
    p: v.p_value,
    adjustedP: v.adjusted_p_value,
    verdict: verdictOf(decisive, v.lift, confidence, direction),
  };
}

function sequentialOf(
  lift: number | null,
  s: SequentialFigures | null | undefined,
  confidence: number,
  direction: 'increase' | 'decrease',
): Comparison | null {
  if (s === undefined || s === null) return null;
  return {
    lift,
    ci: s.lift_ci,
    p: s.p_value,
    adjustedP: null,
    verdict: verdictOf(s.p_value, lift, confidence, direction),
    tuningParameter: s.tuning_parameter,
  };
}

/** The control's row: the baseline of every comparison. */
export const CONTROL_VERDICT: Verdict = { kind: 'control', words: 'Control' };

function definitionOf(block: MetricBlock): string {
  const parts: string[] = [];
  switch (block.type) {
    case 'conversion':
      parts.push(`Share of units with a “${block.event}” event`);
      break;
    case 'mean':
      parts.push(`Mean “${block.event}” value per unit`);
      break;
    case 'count':
      parts.push(`“${block.event}” events per unit`);
      break;
    case 'ratio':
      parts.push(`${block.numerator} ÷ ${block.denominator}, over all units`);
      break;
  }
  if (block.window !== null) {
    parts.push(
      block.window.delay_hours > 0
        ? `counted for ${block.window.hours} h starting ${block.window.delay_hours} h after exposure`
        : `counted for ${block.window.hours} h after exposure`,
    );
  }
  if (block.cap?.absolute !== undefined) parts.push(`capped at ${formatValue(block.cap.absolute)} per unit`);
  if (block.cap?.percentile !== undefined) {
    parts.push(
      `capped at the ${Number((block.cap.percentile * 100).toFixed(2))}th percentile` +
        (block.cap_value === null ? '' : ` (${formatValue(block.cap_value)})`),
    );
  }
  return parts.join(', ');
}

function cupedOf(
  c: CupedFigures,
  confidence: number,
  direction: 'increase' | 'decrease',
): NonNullable<RowView['cuped']> {
  return {
    fixed: fixedOf(c, confidence, direction),
    sequential: sequentialOf(c.lift, c.sequential, confidence, direction),
    varianceReduction: c.variance_reduction,
  };
}

function cupedViewOf(block: MetricBlock): CupedView | null {
  if (block.cuped === undefined || block.cuped === null) return null;
  // Only means and counts have CUPED: y_u is the same sum of values, or the same count, before exposure.
  const covariate = block.type === 'count' ? `“${block.event}” events` : `“${block.event}” value`;
  return { days: block.cuped.days, covariate, note: block.cuped.note };
}

/** The catalogue shape's metric blocks as views. */
export function metricViews(blocks: readonly MetricBlock[], confidence: number): MetricView[] {
  return blocks.map((block) => {
    const direction = block.direction === 'decrease' ? 'decrease' : 'increase';
    const control = block.variations[0]?.variation;
    const cuped = cupedViewOf(block);
    return {
      id: block.metric,
      type: block.type,
      definition: definitionOf(block),
      guardrail: block.guardrail,
      direction,
      test: TESTS[block.test] ?? block.test,
      confidence,
      cuped,
      rows: block.variations.map((v: MetricVariation) => {
        const isControl = v.variation === control;
        const row: RowView = {
          variation: v.variation,
          control: isControl,
          units: v.units,
          conversions: v.conversions,
          estimate: v.estimate,
          fixed: isControl ? null : fixedOf(v, confidence, direction),
          sequential: isControl ? null : sequentialOf(v.lift, v.sequential, confidence, direction),
        };
        if (cuped !== null && !isControl && v.cuped !== undefined && v.cuped !== null) {
          row.cuped = cupedOf(v.cuped, confidence, direction);
        }
        return row;
      }),
    };
  });
}

/** The event shape's figures as one conversion view (with the value and count figures beside). */
export function eventView(answer: EventResultsAnswer, confidence: number): MetricView {
  return {
    id: answer.metric,
    type: 'conversion',
    definition: `Share of units with a “${answer.metric}” event, with the value and count per unit`,
    guardrail: false,
    direction: 'increase',
    test: TESTS['two_proportion_z'] as string,
    confidence,
    cuped: null,
    rows: answer.variations.map((v) => {
      const isControl = v.variation === answer.control;
      return {
        variation: v.variation,
        control: isControl,
        units: v.units,
        conversions: v.conversions,
        estimate: v.conversion_rate,
        event: {
          valuePerUnit: v.value_per_unit,
          countPerUnit: v.count_per_unit,
          valueLift: v.value_lift,
          valueP: v.value_p_value,
        },
        fixed: isControl ? null : fixedOf(v, confidence, 'increase'),
        sequential: isControl ? null : sequentialOf(v.lift, v.sequential, confidence, 'increase'),
      };
    }),
  };
}

/** Whether any comparison of these views has sequential figures. */
export function hasSequential(views: readonly MetricView[]): boolean {
  return views.some((view) => view.rows.some((row) => row.sequential !== null));
}

/** The figures shown: sequential by default when the API sends them, else fixed-horizon. */
export function shownFigures(requested: Figures | undefined, available: boolean): Figures {
  if (!available) return 'fixed';
  return requested ?? 'sequential';
}

/** The adjustment a metric shows: CUPED by default when it has CUPED figures, else unadjusted. */
export function shownAdjustment(view: MetricView, requested: Adjustment | undefined): Adjustment {
  if (view.cuped === null) return 'unadjusted';
  return requested ?? 'cuped';
}

/**
 * The comparison of a row under the figures and the adjustment shown (the control has none). Under
 * 'cuped' a treatment without CUPED figures has none: never the unadjusted figures under an adjusted label.
 */
export function comparisonOf(
  row: RowView,
  figures: Figures,
  adjustment: Adjustment = 'unadjusted',
): Comparison | null {
  const from = adjustment === 'cuped' ? row.cuped : row;
  if (from === undefined) return null;
  return figures === 'sequential' ? from.sequential : from.fixed;
}
