/**
 * The processor's public API: what the CLI and other services use of it. They import the processor only
 * through this file (eslint.config.js enforces it).
 */
export type { IngestEvent } from './domain/ingest-event.ts';
// `liftstream tail` reads the ingest topic as the processor does.
export { ConfluentAvroReader } from '../../../shared/registry/confluent-avro-reader.ts';
export type { AvroRead } from '../../../shared/registry/confluent-avro-reader.ts';
export { readIngestRecord } from './transport/ingest-record.ts';
export type { IngestRead } from './transport/ingest-record.ts';
