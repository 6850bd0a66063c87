/**
 * The gateway's public API: what other services use of it. They import the gateway only through this file
 * (eslint.config.js enforces it). Kept to contracts: importing it must not load the gateway's server.
 */
// The ingest report the gateway publishes is the contract with its reader (the stats service).
export { ingestReportSchema } from './ingest-reports/ingest-report.ts';
export type { IngestReport } from './ingest-reports/ingest-report.ts';
