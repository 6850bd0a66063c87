/**
 * Public surface of the gateway's validation layer, for the HTTP routes. Everything here is pure:
 * no I/O, no clock (the receive time comes in the context), no exceptions on bad data.
 */
export { VALIDATION_CODES, REJECTION_CODES, DROP_REASONS, WARNING_CODES } from './errors.ts';
export type { DropReason, Rejection, RejectionCode, ValidationCode, Warning, WarningCode } from './errors.ts';
export { EMPTY_EVENT_DEFINITIONS, parseEventDefinitions } from './event-definitions.ts';
export type {
  DefinitionError,
  EventDefinition,
  EventDefinitions,
  ParseDefinitionsResult,
  PropertySchema,
} from './event-definitions.ts';
export { AVRO_BODY_RECORD } from './normalized-event.ts';
export type {
  AliasBody,
  EventKind,
  ExposureBody,
  NormalizedEvent,
  PropertyValue,
  TrackBody,
} from './normalized-event.ts';
export {
  DEFAULT_BACKFILL_MS,
  DEFAULT_MAX_FUTURE_MS,
  createValidationContext,
  validateEvent,
} from './validate-event.ts';
export type { AcceptedVerdict, DroppedVerdict, EventVerdict, ValidationContext } from './validate-event.ts';
export { validateBatch } from './validate-batch.ts';
export type { BatchVerdict } from './validate-batch.ts';
