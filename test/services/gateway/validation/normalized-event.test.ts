/**
 * Keeps the hand-written NormalizedEvent in step with schemas/ingest-event.avsc: same field names,
 * and events produced by validateEvent encode with avsc once the transport fields are added.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { AVRO_BODY_RECORD } from '../../../../services/gateway/src/validation/normalized-event.ts';
import type { NormalizedEvent } from '../../../../services/gateway/src/validation/normalized-event.ts';
import { validateEvent } from '../../../../services/gateway/src/validation/validate-event.ts';
import {
  CHROME_UA,
  RECEIVED_AT,
  alias,
  exposure,
  testContext,
  track,
} from '../../../helpers/gateway-validation.ts';

interface AvroField {
  name: string;
  type: unknown;
}

const schema = JSON.parse(
  readFileSync(new URL('../../../../schemas/ingest-event.avsc', import.meta.url), 'utf8'),
) as {
  fields: AvroField[];
};
const ingestType = avro.Type.forSchema(schema as avro.Schema);
const TRANSPORT_FIELDS = ['event_id', 'project', 'received_at'];

/** What the transport will do: add its three fields and wrap body as its union branch. */
function toWire(event: NormalizedEvent): Record<string, unknown> {
  const { kind, body, ...rest } = event;
  return {
    event_id: '9b2f0c1e-0000-4000-8000-000000000001',
    project: 'acme',
    received_at: RECEIVED_AT,
    ...rest,
    body: { [AVRO_BODY_RECORD[kind]]: body },
  };
}

function accepted(raw: unknown): NormalizedEvent {
  const verdict = validateEvent(raw, testContext());
  if (verdict.status !== 'accepted') throw new Error(JSON.stringify(verdict));
  return verdict.event;
}

function bodyFieldNames(recordName: string): string[] {
  const bodyField = schema.fields.find((f) => f.name === 'body');
  const branches = bodyField?.type as { name: string; fields: AvroField[] }[];
  const branch = branches.find((b) => `io.liftstream.ingest.${b.name}` === recordName);
  if (branch === undefined) throw new Error(`no body branch ${recordName} in the schema`);
  return branch.fields.map((f) => f.name);
}

const SAMPLES: [string, unknown][] = [
  [
    'track',
    track({
      anonymous_id: 'a-1',
      message_id: 'm-1',
      decision_id: 'd-1',
      value: 19.5,
      sample: 0.25,
      properties: { plan: 'pro', seats: 3, trial: true, constructor: 'x', '🎉': 'ü' },
      context: { user_agent: CHROME_UA },
    }),
  ],
  ['minimal track', track()],
  ['exposure', exposure({ decision_id: 'dec_abc123', context: { locale: 'ar-EG' } })],
  [
    'exposure with properties',
    exposure({ properties: { country: 'DE', seats: 3, beta: false }, context: { locale: 'de-DE' } }),
  ],
  ['alias', alias()],
];

describe('NormalizedEvent and schemas/ingest-event.avsc', () => {
  it('has exactly the schema fields minus the transport fields, plus the kind discriminant', () => {
    const expected = schema.fields.map((f) => f.name).filter((n) => !TRANSPORT_FIELDS.includes(n));
    for (const [name, raw] of SAMPLES) {
      const keys = Object.keys(accepted(raw)).filter((k) => k !== 'kind');
      expect(keys.sort(), name).toEqual([...expected].sort());
    }
  });

  it.each(SAMPLES)('gives a %s body with exactly the fields of its Avro record', (_name, raw) => {
    const event = accepted(raw);
    expect(Object.keys(event.body).sort()).toEqual(bodyFieldNames(AVRO_BODY_RECORD[event.kind]).sort());
  });

  it.each(SAMPLES)('encodes a normalised %s with avsc and decodes it back unchanged', (_name, raw) => {
    const wire = toWire(accepted(raw));
    const problems: string[] = [];
    const valid = ingestType.isValid(wire, {
      errorHook: (path: string[], value: unknown) =>
        problems.push(`${path.join('.')}=${JSON.stringify(value)}`),
    });
    expect(valid, problems.join('; ')).toBe(true);
    // Compare as JSON: decoding builds ordinary objects where we built null-prototype maps.
    expect(JSON.parse(JSON.stringify(ingestType.fromBuffer(ingestType.toBuffer(wire))))).toEqual(
      JSON.parse(JSON.stringify(wire)),
    );
  });
});
