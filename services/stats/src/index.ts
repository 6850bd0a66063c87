/**
 * The stats service's public API: what the CLI and other services use of it. They import the stats
 * service only through this file (eslint.config.js enforces it).
 */
// The stats API's answers, as the CLI renders them.
export {
  ExperimentsResponseSchema,
  MetricResultsResponseSchema,
  MetricsCatalogueResponseSchema,
  ResultsResponseSchema,
} from './http/route-schemas.ts';
