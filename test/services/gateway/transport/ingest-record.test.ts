import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { readAvsc } from '../../../../shared/registry/avro-schemas.ts';
import {
  ingestKey,
  rawIdentity,
  toIngestValue,
} from '../../../../services/gateway/src/transport/ingest-record.ts';
import { validateEvent } from '../../../../services/gateway/src/validation/index.ts';
import type { NormalizedEvent } from '../../../../services/gateway/src/validation/index.ts';
import {
  CHROME_UA,
  RECEIVED_AT,
  alias,
  exposure,
  testContext,
  track,
} from '../../../helpers/gateway-validation.ts';

const ingestType = avro.Type.forSchema(readAvsc('ingest-event') as avro.Schema);
const META = { project: 'acme', receivedAt: RECEIVED_AT, eventId: '6f1c2b1e-0000-4000-8000-000000000001' };

/** Validates `raw` and returns the accepted event, failing the test otherwise. */
function accepted(raw: Record<string, unknown>): NormalizedEvent {
  const verdict = validateEvent(raw, testContext());
  if (verdict.status !== 'accepted') throw new Error(`fixture was not accepted: ${JSON.stringify(verdict)}`);
  return verdict.event;
}

describe('ingestKey', () => {
  it('keys a track event by user_id when it has one', () => {
    expect(ingestKey('acme', accepted(track({ user_id: 'u1', anonymous_id: 'a1' })))).toBe('acme/u1');
  });

  it('keys a track event by anonymous_id when it has no user_id', () => {
    expect(ingestKey('acme', accepted(track({ user_id: undefined, anonymous_id: 'a1' })))).toBe('acme/a1');
  });

  it('keys an exposure like a track event', () => {
    expect(ingestKey('acme', accepted(exposure({ user_id: 'u7' })))).toBe('acme/u7');
  });

  it('keys an alias by its anonymous_id, so it meets the anonymous events', () => {
    const event = accepted(alias({ anonymous_id: 'anon-9', user_id: 'u9' }));
    expect(rawIdentity(event)).toBe('anon-9');
    expect(ingestKey('acme', event)).toBe('acme/anon-9');
  });
});

describe('toIngestValue', () => {
  it('adds event_id, project and received_at and keeps the event time', () => {
    const value = toIngestValue(accepted(track({ timestamp: RECEIVED_AT - 60_000 })), META);
    expect(value.event_id).toBe(META.eventId);
    expect(value.project).toBe('acme');
    expect(value.received_at).toBe(RECEIVED_AT);
    expect(value.timestamp, 'the producer timestamp, not the receive time').toBe(RECEIVED_AT - 60_000);
  });

  it('wraps a track body in the io.liftstream.ingest.Track branch with every field', () => {
    const value = toIngestValue(
      accepted(
        track({
          value: 12.5,
          properties: { plan: 'pro', seats: 3, trial: false },
          decision_id: 'd1',
          sample: 0.5,
          message_id: 'm1',
        }),
      ),
      META,
    );
    expect(value.message_id).toBe('m1');
    expect(Object.keys(value.body)).toEqual(['io.liftstream.ingest.Track']);
    expect({ ...value.body['io.liftstream.ingest.Track'] }).toEqual({
      event: 'purchase',
      value: 12.5,
      properties: { plan: 'pro', seats: 3, trial: false },
      decision_id: 'd1',
      sample: 0.5,
    });
  });

  it('wraps an exposure body in the Exposure branch', () => {
    const value = toIngestValue(
      accepted(exposure({ decision_id: 'd2', properties: { country: 'DE' } })),
      META,
    );
    expect(value.body).toEqual({
      'io.liftstream.ingest.Exposure': {
        experiment: 'checkout_color',
        variation: 'treatment',
        decision_id: 'd2',
        properties: { country: 'DE' },
      },
    });
  });

  it('writes an alias with both ids on the envelope and an empty Alias body', () => {
    const value = toIngestValue(accepted(alias()), META);
    expect(value.user_id).toBe('u1');
    expect(value.anonymous_id).toBe('anon-1');
    expect(value.body).toEqual({ 'io.liftstream.ingest.Alias': {} });
  });

  it.each([
    [
      'track',
      track({
        properties: { plan: 'pro', n: 2, ok: true },
        context: { user_agent: CHROME_UA, locale: 'de-DE' },
      }),
    ],
    ['exposure', exposure({ anonymous_id: 'a1', user_id: undefined })],
    [
      'exposure with properties',
      exposure({ properties: { country: 'DE', seats: 3, beta: true }, context: { locale: 'de-DE' } }),
    ],
    ['alias', alias()],
  ])('produces a %s value that the ingest-event schema encodes and decodes unchanged', (_kind, raw) => {
    const value = toIngestValue(accepted(raw), META);
    expect(ingestType.isValid(value), 'valid against schemas/ingest-event.avsc').toBe(true);
    const decoded = ingestType.fromBuffer(ingestType.toBuffer(value)) as Record<string, unknown>;
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(JSON.parse(JSON.stringify(value)));
  });
});
