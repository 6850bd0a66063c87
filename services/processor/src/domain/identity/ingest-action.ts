import { rawIdentityOf, type IngestEvent } from '../ingest-event.ts';
import { dimensionValuesOf } from '../dimension-values.ts';
import type { UnitEvent } from '../unit-event.ts';

/** What an ingest event asks of the identity stage, or why it cannot be used. */
export type IngestAction =
  | { ok: true; rawId: string; action: { type: 'alias'; user: string } | { type: 'event'; event: UnitEvent } }
  | { ok: false; reason: string };

/**
 * Decodes an ingest event into the identity stage's action: an alias of the key's anonymous id to
 * a user, or the unit event to route (weight = 1/sample; an exposure with the values of the
 * project's `dimensions`, see dimension-values.ts). Checks only what would corrupt attribution
 * (the gateway owns full validation): an identity, an alias's user_id, finite timestamp and value,
 * sample in (0, 1].
 */
export function ingestActionOf(event: IngestEvent, dimensions: readonly string[] = []): IngestAction {
  const rawId = rawIdentityOf(event);
  if (rawId === null) return { ok: false, reason: 'no user_id or anonymous_id' };
  if (!Number.isFinite(event.timestamp)) return { ok: false, reason: 'timestamp is not a finite number' };
  const { body, event_id, timestamp } = event;
  switch (body.kind) {
    case 'alias': {
      const user = event.user_id;
      if (user === null || user === '') return { ok: false, reason: 'alias without user_id' };
      return { ok: true, rawId, action: { type: 'alias', user } };
    }
    case 'exposure': {
      const { experiment, variation, decision_id } = body;
      const unitEvent: UnitEvent = {
        kind: 'exposure',
        event_id,
        timestamp,
        experiment,
        variation,
        decision_id,
        dimensions: dimensionValuesOf(dimensions, body.properties, event.context),
      };
      return { ok: true, rawId, action: { type: 'event', event: unitEvent } };
    }
    case 'track': {
      if (!(body.sample > 0 && body.sample <= 1)) {
        return { ok: false, reason: `sample ${body.sample} is not in (0, 1]` };
      }
      if (body.value !== null && !Number.isFinite(body.value)) {
        return { ok: false, reason: 'value is not a finite number' };
      }
      const { event: name, value, decision_id } = body;
      const weight = 1 / body.sample;
      const unitEvent: UnitEvent = {
        kind: 'track',
        event_id,
        timestamp,
        event: name,
        value,
        weight,
        decision_id,
      };
      return { ok: true, rawId, action: { type: 'event', event: unitEvent } };
    }
  }
}
