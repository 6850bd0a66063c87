import type { DimensionValues } from '../dimension-values.ts';
import type { ExposureEvent } from '../unit-event.ts';

/**
 * Everything attribution ever needs from a unit's exposures to one experiment, kept instead of
 * the raw exposures. It is a semilattice: `combineExposures` is commutative, associative and
 * idempotent, so the summary of a set of exposures does not depend on arrival order, replays,
 * or how a merge split them. That is why raw exposures are not stored (a replayed exposure is a
 * no-op by construction) and why eviction never has to touch exposures.
 */
export interface ExperimentExposure {
  experiment: string;
  /** Smallest exposure timestamp, unix ms. */
  first_exposure_at: number;
  /**
   * Variation of the first exposure. Two exposures at the same smallest instant with different
   * variations make the unit multiple-exposure anyway; the row still needs one variation, so the
   * smallest name wins, which keeps the row independent of arrival order.
   */
  variation: string;
  /**
   * Exposed to 2+ distinct variations. When false, every exposure had `variation`, which is
   * what makes this flag (instead of the set of variations) enough to combine summaries.
   */
  multiple_exposure: boolean;
  /** Distinct decision_ids carried by the exposures, sorted. Grows with decisions; never evicted
   * because a conversion may name a decision of any age. */
  decision_ids: string[];
  /**
   * The declared dimensions' values of the first exposure, the one that gives `first_exposure_at`
   * and `variation`. Exposures at the same first instant with the same variation but other values
   * are tied: the values whose `canonicalDimensions` is smallest win, so the answer does not depend
   * on arrival order either.
   */
  dimensions: DimensionValues;
}

/** The summary of a single exposure. */
export function exposureOf(event: ExposureEvent): ExperimentExposure {
  return {
    experiment: event.experiment,
    first_exposure_at: event.timestamp,
    variation: event.variation,
    multiple_exposure: false,
    decision_ids: event.decision_id === null ? [] : [event.decision_id],
    dimensions: event.dimensions,
  };
}

/** The summary of the union of two exposure sets of the same experiment. */
export function combineExposures(a: ExperimentExposure, b: ExperimentExposure): ExperimentExposure {
  const first = isEarlier(b, a) ? b : a;
  return {
    experiment: a.experiment,
    first_exposure_at: first.first_exposure_at,
    variation: first.variation,
    multiple_exposure: a.multiple_exposure || b.multiple_exposure || a.variation !== b.variation,
    decision_ids: sortedUnion(a.decision_ids, b.decision_ids),
    dimensions: first.dimensions,
  };
}

/**
 * Adds summaries to a list of per-experiment summaries (at most one per experiment), returning
 * a new list sorted by experiment so equal contents serialise equally.
 */
export function addExposures(
  list: readonly ExperimentExposure[],
  more: readonly ExperimentExposure[],
): ExperimentExposure[] {
  const byExperiment = new Map<string, ExperimentExposure>(list.map((x) => [x.experiment, x]));
  for (const x of more) {
    const known = byExperiment.get(x.experiment);
    byExperiment.set(x.experiment, known === undefined ? x : combineExposures(known, x));
  }
  return [...byExperiment.values()].sort((a, b) => compareStrings(a.experiment, b.experiment));
}

// A total order on (first_exposure_at, variation, dimensions): the first exposure, ties broken by
// variation name, then by the canonical form of the values. Total, so `first` is the same whichever
// way round a combination is made, which is what keeps combineExposures a semilattice.
function isEarlier(a: ExperimentExposure, b: ExperimentExposure): boolean {
  if (a.first_exposure_at !== b.first_exposure_at) return a.first_exposure_at < b.first_exposure_at;
  if (a.variation !== b.variation) return compareStrings(a.variation, b.variation) < 0;
  return compareStrings(canonicalDimensions(a.dimensions), canonicalDimensions(b.dimensions)) < 0;
}

/**
 * One string per set of dimension values, equal exactly when the values are: the [name, value]
 * pairs sorted by name, as JSON. Used for the tie-break above and in exposure rows' identity.
 */
export function canonicalDimensions(values: DimensionValues): string {
  return JSON.stringify(Object.entries(values).sort(([a], [b]) => compareStrings(a, b)));
}

function sortedUnion(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(compareStrings);
}

/** Code-unit order, locale-independent (localeCompare would vary by machine). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
