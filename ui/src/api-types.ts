/**
 * The answers of the stats API the page reads, as services/stats/src/http/route-schemas.ts (and
 * srm-routes.ts) define them. Written out here because the page is type-checked apart from the server
 * (DOM, no Node); test/ui/api-types.test.ts checks at compile time that each server schema's type is
 * assignable to these, so a field renamed on the server breaks the build. Fields the page reads only
 * when present (`sequential`, `cuped`, `inference`, `last_event_at`, `open_alerts`) are optional: the page
 * works against servers without them.
 */

export type Interval = [number, number];

/** The always-valid comparison of a treatment with the control (docs/semantics.md); null on the control. */
export interface SequentialFigures {
  lift_ci: Interval | null;
  p_value: number | null;
  tuning_parameter: number;
}

export interface ExperimentSummary {
  experiment: string;
  variations: { variation: string; units: number }[];
  units: number;
  multiple_exposure_units: number;
  first_exposure_at: string | null;
  last_exposure_at: string | null;
  /** Freshness: the newest counted event (event time, may be ahead of this clock). */
  last_event_at?: string | null;
  /** Alerts raised and not cleared (GET /v1/alerts?state=open). */
  open_alerts?: number;
  open_alerts_by_kind?: { srm?: number; guardrail?: number };
}

export interface ExperimentsAnswer {
  project: string;
  experiments: ExperimentSummary[];
}

export interface SrmBlock {
  p_value: number | null;
  observed: Record<string, number>;
  expected: Record<string, number>;
}

export interface SrmListAnswer {
  project: string;
  alarm_below: number;
  experiments: { experiment: string; srm: SrmBlock | null; problem: string | null }[];
}

export interface MetricDefinition {
  id: string;
  type: 'conversion' | 'mean' | 'count' | 'ratio';
  description?: string;
  event?: string;
  numerator?: string;
  denominator?: string;
  window?: { delay_hours: number; hours: number };
  cap?: { absolute?: number; percentile?: number };
  guardrail: boolean;
  direction: 'increase' | 'decrease';
}

export interface CatalogueAnswer {
  project: string;
  dimensions: string[];
  metrics: MetricDefinition[];
  experiments: Record<string, { metrics: string[]; guardrails: string[]; control?: string }>;
}

/** One variation of the event answer (`?metric=<event>`). */
export interface EventVariation {
  variation: string;
  units: number;
  conversions: number;
  conversion_rate: number | null;
  value_per_unit: number | null;
  count_per_unit: number | null;
  mean_value: number | null;
  lift: number | null;
  lift_ci: Interval | null;
  p_value: number | null;
  adjusted_p_value: number | null;
  value_lift: number | null;
  value_p_value: number | null;
  count_p_value: number | null;
  sequential?: SequentialFigures | null;
}

export interface EventResultsAnswer {
  experiment: string;
  metric: string;
  control: string;
  computed_at: string;
  multiple_exposure_units: number;
  last_event_at?: string | null;
  srm: SrmBlock;
  inference?: string;
  variations: EventVariation[];
}

/**
 * A variation's CUPED-adjusted figures (docs/semantics.md, "Variance reduction (CUPED)"): gbstats'
 * RegressionAdjustedStatistic, θ pooled over the treatment and the control. The comparison fields are null
 * on the control; its estimate, variance and θ are given only when one treatment makes θ unique.
 */
export interface CupedFigures {
  estimate: number | null;
  variance: number | null;
  theta: number | null;
  control_estimate: number | null;
  lift: number | null;
  lift_ci: Interval | null;
  p_value: number | null;
  adjusted_p_value: number | null;
  sequential?: SequentialFigures | null;
  /** 1 − V_adjusted / V_unadjusted of the relative-lift estimator: a share, slightly negative at worst. */
  variance_reduction: number | null;
}

export interface MetricVariation {
  variation: string;
  units: number;
  conversions: number;
  sum: number;
  estimate: number | null;
  lift: number | null;
  lift_ci: Interval | null;
  p_value: number | null;
  adjusted_p_value: number | null;
  sequential?: SequentialFigures | null;
  /** Null unless the block's metric has CUPED (`MetricBlock.cuped`). */
  cuped?: CupedFigures | null;
}

export interface MetricBlock {
  metric: string;
  type: string;
  event: string | null;
  numerator: string | null;
  denominator: string | null;
  guardrail: boolean;
  direction: string;
  window: { delay_hours: number; hours: number } | null;
  cap: { absolute?: number; percentile?: number } | null;
  cap_value: number | null;
  /** The metric's CUPED setting: the covariate's lookback before first exposure, and what it covers. */
  cuped?: { days: number; note: string } | null;
  test: string;
  variations: MetricVariation[];
}

export interface UnitsOf {
  variation: string;
  units: number;
}

export interface MetricResultsAnswer {
  project: string;
  experiment: string;
  control: string;
  confidence: number;
  computed_at: string;
  multiple_exposure_units: number;
  last_event_at?: string | null;
  units: UnitsOf[];
  srm: SrmBlock;
  inference?: string;
  metrics?: MetricBlock[];
  dimension?: string;
  values?: {
    value: string;
    multiple_exposure_units: number;
    units: UnitsOf[];
    srm: SrmBlock;
    metrics: MetricBlock[];
  }[];
}

export interface TimeseriesAnswer {
  experiment: string;
  metric: string;
  type: string;
  interval: string;
  control: string;
  confidence: number;
  computed_at: string;
  points: {
    as_of: string;
    variations: {
      variation: string;
      units: number;
      conversions: number;
      estimate: number | null;
      lift: number | null;
      lift_ci: Interval | null;
      p_value: number | null;
      sequential?: SequentialFigures | null;
    }[];
  }[];
}

/**
 * GET /v1/ingest/summary?hours=H: what the project's gateways accepted, rejected (by error code) and dropped
 * (by reason: bots) over the last H hours. Written against the agreed shape before the route existed; the
 * page treats its absence (404) as "not reported by this stats service".
 */
export interface IngestSummaryAnswer {
  project: string;
  from: string;
  to: string;
  accepted: number;
  rejected: { total: number; by_code: Record<string, number> };
  dropped: { total: number; by_reason: Record<string, number> };
  gateways: number;
  /** The newest report of any gateway; null when none has reported yet. */
  last_report_at: string | null;
}

/** The one error body of every service. */
export interface ErrorAnswer {
  error: { code: string; message: string };
}
