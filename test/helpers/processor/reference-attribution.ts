/**
 * The batch definition of the processor's output rows, written straight from
 * /work/shared/brief/semantics.md as plainly as possible and without any processor code, so the
 * property test compares the streaming stages with an independent reading of the rules.
 *
 * Two choices semantics.md leaves open, made here as in the processor:
 * - canonical() is one step (an alias target is not itself re-aliased): test data has no chains;
 * - when exposures at the same smallest timestamp have different variations, the unit is
 *   multiple-exposure and its row's variation is the smallest variation name among them;
 * - when exposures at the same smallest timestamp with that variation have different dimension
 *   values, the row takes those whose sorted [name, value] pairs are smallest as JSON.
 */
import type { IngestEvent } from '../../../services/processor/src/domain/ingest-event.ts';
import type {
  AttributedEventRow,
  CovariateEventRow,
  UnitExposureRow,
} from '../../../services/processor/src/domain/output-rows.ts';
import type { AttributionMode } from '../../../services/processor/src/domain/attribution/unit-state.ts';

/** The rows that should be asserted (sign total 1) once everything is processed. */
export interface ReferenceRows {
  exposures: UnitExposureRow[];
  attributed: AttributedEventRow[];
  covariates: CovariateEventRow[];
}

/**
 * `events`: every event the gateway accepted, in acceptance order; `dimensionsOf`: each project's
 * declared dimension names; `lookbackOf`: each project's CUPED lookback (ms) per event name.
 */
export function referenceRows(
  events: readonly IngestEvent[],
  modeOf: (project: string) => AttributionMode,
  dimensionsOf: (project: string) => readonly string[] = () => [],
  lookbackOf: (project: string) => Readonly<Record<string, number>> = () => ({}),
): ReferenceRows {
  // message_id: two accepted events of a project with the same message_id count once, the
  // first accepted wins.
  const seenMessages = new Set<string>();
  const accepted = events.filter((e) => {
    if (e.message_id === null) return true;
    const key = JSON.stringify([e.project, e.message_id]);
    if (seenMessages.has(key)) return false;
    seenMessages.add(key);
    return true;
  });

  // canonical(x): an anonymous_id aliased to a user_id is that user (first alias wins); else x.
  const aliasOf = new Map<string, string>();
  for (const e of accepted) {
    if (e.body.kind !== 'alias') continue;
    const key = JSON.stringify([e.project, e.anonymous_id]);
    if (!aliasOf.has(key)) aliasOf.set(key, e.user_id!);
  }
  const canonical = (project: string, id: string): string => aliasOf.get(JSON.stringify([project, id])) ?? id;
  // An event with a user_id belongs to canonical(user_id), else to canonical(anonymous_id).
  const unitOf = (e: IngestEvent): string => canonical(e.project, e.user_id ?? e.anonymous_id!);

  const exposureRows: UnitExposureRow[] = [];
  const attributed: AttributedEventRow[] = [];
  const covariates: CovariateEventRow[] = [];
  const units = new Set(
    accepted.filter((e) => e.body.kind !== 'alias').map((e) => JSON.stringify([e.project, unitOf(e)])),
  );
  for (const unitKey of units) {
    const [project, unit] = JSON.parse(unitKey) as [string, string];
    const mine = accepted.filter(
      (e) => e.project === project && e.body.kind !== 'alias' && unitOf(e) === unit,
    );
    const experiments = new Set(mine.flatMap((e) => (e.body.kind === 'exposure' ? [e.body.experiment] : [])));
    for (const experiment of experiments) {
      const exposures = mine.filter((e) => e.body.kind === 'exposure' && e.body.experiment === experiment);
      const variationOf = (e: IngestEvent): string => (e.body.kind === 'exposure' ? e.body.variation : '');
      const decisionOf = (e: IngestEvent): string | null =>
        e.body.kind === 'exposure' ? e.body.decision_id : null;
      // first_exposure(u, E): the smallest timestamp among u's exposures to E.
      const firstExposure = Math.min(...exposures.map((e) => e.timestamp));
      // u's variation is the variation of that first exposure.
      const variation = exposures
        .filter((e) => e.timestamp === firstExposure)
        .map(variationOf)
        .sort()[0]!;
      // Exposed to two or more different variations: multiple-exposure, left out of analysis.
      const multiple = new Set(exposures.map(variationOf)).size >= 2;
      // A unit's value of dimension d is taken from its first exposure: properties[d], else
      // context[d], else absent; property values as strings.
      const dimensionsOfExposure = (e: IngestEvent): Record<string, string> => {
        const values: Record<string, string> = {};
        const properties = e.body.kind === 'exposure' ? e.body.properties : {};
        for (const d of dimensionsOf(project)) {
          if (Object.hasOwn(properties, d)) values[d] = String(properties[d]);
          else if (Object.hasOwn(e.context, d)) values[d] = e.context[d]!;
        }
        return values;
      };
      const sortedPairs = (values: Record<string, string>): string =>
        JSON.stringify(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)));
      const dimensions = exposures
        .filter((e) => e.timestamp === firstExposure && variationOf(e) === variation)
        .map(dimensionsOfExposure)
        .sort((a, b) => (sortedPairs(a) < sortedPairs(b) ? -1 : sortedPairs(a) > sortedPairs(b) ? 1 : 0))[0]!;
      exposureRows.push({
        project,
        experiment,
        unit,
        variation,
        first_exposure_at: firstExposure,
        multiple_exposure: multiple,
        dimensions,
      });
      if (multiple) continue;
      for (const t of mine) {
        if (t.body.kind !== 'track') continue;
        // CUPED: y_u is over the unit's events in [first_exposure − P, first_exposure); they are never attributed.
        const lookback = lookbackOf(project)[t.body.event];
        if (
          lookback !== undefined &&
          t.timestamp < firstExposure &&
          t.timestamp >= firstExposure - lookback
        ) {
          covariates.push({
            project,
            experiment,
            unit,
            variation,
            first_exposure_at: firstExposure,
            event_id: t.event_id,
            event: t.body.event,
            timestamp: t.timestamp,
            weight: 1 / t.body.sample,
            value: t.body.value,
          });
        }
        // Events before a unit's first exposure never count.
        if (t.timestamp < firstExposure) continue;
        // decision mode: a track with a decision_id counts only for experiments whose exposures
        // of u carry that decision_id; without one, the cumulative rule.
        const trackDecision = t.body.decision_id;
        if (
          modeOf(project) === 'decision' &&
          trackDecision !== null &&
          !exposures.some((e) => decisionOf(e) === trackDecision)
        ) {
          continue;
        }
        attributed.push({
          project,
          experiment,
          unit,
          variation,
          event_id: t.event_id,
          event: t.body.event,
          timestamp: t.timestamp,
          weight: 1 / t.body.sample,
          value: t.body.value,
        });
      }
    }
  }
  return { exposures: exposureRows, attributed, covariates };
}
