/**
 * What the experiment page shows: the metrics or event the URL names, else the experiment's metric set,
 * else the catalogue's metrics, else one event's figures (named by the user). Pure.
 */
import type { CatalogueAnswer } from './api-types.ts';
import type { ExperimentOptions } from './route.ts';

/** The API's bound on metrics per request. */
export const MAX_METRICS = 20;

export type Source =
  | { kind: 'set'; metrics: string[] }
  | { kind: 'metrics'; metrics: string[] }
  | { kind: 'event'; event: string | undefined };

/**
 * The source the options ask for, else the experiment's metric set, else the catalogue, else an event;
 * undefined until the catalogue is known, unless the options name the metrics or event (a link to a
 * chosen view loads its figures at once; the API refuses names it does not know).
 */
export function sourceOf(
  options: ExperimentOptions,
  catalogue: CatalogueAnswer | undefined,
  experiment: string,
): Source | undefined {
  if (options.event !== undefined) return { kind: 'event', event: options.event };
  if (catalogue === undefined) {
    const named = options.metrics?.slice(0, MAX_METRICS);
    return named === undefined ? undefined : { kind: 'metrics', metrics: named };
  }
  const known = new Set(catalogue.metrics.map((m) => m.id));
  const chosen = options.metrics?.filter((m) => known.has(m)).slice(0, MAX_METRICS);
  if (chosen !== undefined && chosen.length > 0) return { kind: 'metrics', metrics: chosen };
  const set = catalogue.experiments[experiment];
  if (set !== undefined) return { kind: 'set', metrics: [...new Set([...set.metrics, ...set.guardrails])] };
  if (catalogue.metrics.length > 0) {
    return { kind: 'metrics', metrics: catalogue.metrics.slice(0, MAX_METRICS).map((m) => m.id) };
  }
  return { kind: 'event', event: undefined };
}
