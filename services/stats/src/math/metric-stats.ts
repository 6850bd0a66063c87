/**
 * Per-variation sufficient statistics of one catalogue metric (docs/semantics.md, "Second edition"): what
 * ClickHouse returns for a metric and what the batch reference computes from raw events, so the two can
 * be compared and fed to the same statistics.
 *
 * For a unit u of the variation, over its attributed events of the metric's event inside the metric's
 * window (every unit of the variation counts, those without events as 0):
 * - conversion: v_u = c_u (1 when it has an event, else 0);
 * - mean:       v_u = x_u = Σ w·value, capped (min(x_u, cap)) when the metric has a cap;
 * - count:      v_u = k_u = Σ w, capped likewise;
 * - ratio:      v_u = N_u (the numerator metric's value) and d_u = D_u (the denominator's), each with its
 *               own window and cap.
 */
export interface MetricVariationStats {
  variation: string;
  /** n: analysed units of the variation. */
  units: number;
  /** Units with at least one counted event of the metric (of the numerator for a ratio). */
  conversions: number;
  /** Σ v_u and Σ v_u² over the n units. */
  sum: number;
  sumSq: number;
  /** Ratio only (0 otherwise): Σ d_u, Σ d_u², Σ v_u·d_u over the n units. */
  denominatorSum: number;
  denominatorSumSq: number;
  crossSum: number;
  /**
   * CUPED covariate (docs/semantics.md, "Variance reduction (CUPED)"), present when the metric has `cuped`:
   * with y_u the same metric's value over the unit's events in [first_exposure − P days, first_exposure)
   * (0 without any), Σ y_u, Σ y_u² and Σ v_u·y_u over the same n units. Mean and count metrics only.
   */
  covariate?: { sum: number; sumSq: number; crossSum: number };
}

/** The statistics of one metric of one experiment (or of one dimension value of it). */
export interface MetricStats {
  /** Sorted by variation name; every variation of the experiment, 0 units included. */
  variations: MetricVariationStats[];
  /**
   * The cap applied to v_u (and d_u for a ratio, per operand): the absolute cap, or the percentile's
   * quantile over the experiment's analysed units with a positive value; null when uncapped or when no unit
   * has a positive value (nothing to cap).
   */
  capValue: number | null;
  denominatorCapValue: number | null;
}
