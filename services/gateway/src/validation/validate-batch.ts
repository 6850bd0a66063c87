/**
 * Validation of a batch: each event is judged on its own by validateEvent, so a bad event never
 * affects the others; results carry the event's index in the batch.
 */
import type { DropReason, RejectionCode, WarningCode } from './errors.ts';
import type { NormalizedEvent } from './normalized-event.ts';
import { validateEvent } from './validate-event.ts';
import type { ValidationContext } from './validate-event.ts';

/** The verdicts of a batch, split by outcome; every index appears in exactly one of the first three. */
export interface BatchVerdict {
  readonly accepted: { index: number; event: NormalizedEvent }[];
  readonly rejected: { index: number; code: RejectionCode; field: string; message: string }[];
  readonly dropped: { index: number; reason: DropReason }[];
  /** Warnings of accepted events only (a rejected or dropped event reports just its verdict). */
  readonly warnings: { index: number; code: WarningCode; field: string; message: string }[];
  /** Names of accepted track events without a definition, one entry per event, for counting. */
  readonly undefinedEvents: { index: number; name: string }[];
}

/** Validates every event of a batch independently (holes in a sparse array are rejected as non-objects). */
export function validateBatch(events: readonly unknown[], ctx: ValidationContext): BatchVerdict {
  const result: BatchVerdict = { accepted: [], rejected: [], dropped: [], warnings: [], undefinedEvents: [] };
  for (let index = 0; index < events.length; index++) {
    const verdict = validateEvent(events[index], ctx);
    if (verdict.status === 'accepted') {
      result.accepted.push({ index, event: verdict.event });
      for (const w of verdict.warnings)
        result.warnings.push({ index, code: w.code, field: w.field, message: w.message });
      if (verdict.undefinedEvent !== null)
        result.undefinedEvents.push({ index, name: verdict.undefinedEvent });
    } else if (verdict.status === 'rejected') {
      result.rejected.push({ index, code: verdict.code, field: verdict.field, message: verdict.message });
    } else {
      result.dropped.push({ index, reason: verdict.reason });
    }
  }
  return result;
}
