/**
 * The page's API types (ui/src/api-types.ts) against the server's route schemas: each answer the server
 * can send must be assignable to what the page reads. Checked by the type checker (tsc over test/).
 */
import type { Static } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type {
  CatalogueAnswer,
  EventResultsAnswer,
  ExperimentsAnswer,
  IngestSummaryAnswer,
  MetricResultsAnswer,
  SrmListAnswer,
  TimeseriesAnswer,
} from '../../ui/src/api-types.ts';
import type {
  ExperimentsResponseSchema,
  MetricResultsResponseSchema,
  MetricsCatalogueResponseSchema,
  ResultsResponseSchema,
  TimeseriesResponseSchema,
} from '../../services/stats/src/http/route-schemas.ts';
import type { IngestSummaryResponseSchema } from '../../services/stats/src/http/ingest-summary-routes.ts';
import type { SrmListResponseSchema } from '../../services/stats/src/http/srm-routes.ts';

/**
 * The only arrays of numbers in these answers are intervals, which the schemas bound to two items
 * (minItems/maxItems, which TypeBox's static type does not carry): read them as pairs, as the page does.
 */
type Pairs<T> = T extends number[]
  ? [number, number]
  : T extends (infer E)[]
    ? Pairs<E>[]
    : T extends object
      ? { [K in keyof T]: Pairs<T[K]> }
      : T;

/** true when every answer of type Server can be read as Ui; a mismatch fails type checking below. */
type ReadsAs<Server, Ui> = [Pairs<Server>] extends [Ui] ? true : false;

describe("the results page's view of the API", () => {
  it('reads every answer as the route schemas define it', () => {
    const checks: [
      ReadsAs<Static<typeof ExperimentsResponseSchema>, ExperimentsAnswer>,
      ReadsAs<Static<typeof SrmListResponseSchema>, SrmListAnswer>,
      ReadsAs<Static<typeof MetricsCatalogueResponseSchema>, CatalogueAnswer>,
      ReadsAs<Static<typeof ResultsResponseSchema>, EventResultsAnswer>,
      ReadsAs<Static<typeof MetricResultsResponseSchema>, MetricResultsAnswer>,
      ReadsAs<Static<typeof TimeseriesResponseSchema>, TimeseriesAnswer>,
      ReadsAs<Static<typeof IngestSummaryResponseSchema>, IngestSummaryAnswer>,
    ] = [true, true, true, true, true, true, true];
    expect(checks.every(Boolean)).toBe(true);
  });
});
