import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { readAvsc } from '../../../../shared/registry/avro-schemas.ts';
import { ConfluentBatchEncoder } from '../../../../services/gateway/src/transport/confluent-encoder.ts';
import { parseNdjsonText } from '../../../../services/gateway/src/http/request-body.ts';
import {
  MALFORMED_JSON,
  RECORD_OVERHEAD_BYTES,
  prepareIngest,
} from '../../../../services/gateway/src/ingest/prepare-ingest.ts';
import { GOOGLEBOT_UA, RECEIVED_AT, alias, testContext, track } from '../../../helpers/gateway-validation.ts';

const ingestType = avro.Type.forSchema(readAvsc('ingest-event') as avro.Schema);
/** The real schema with a made-up id (no registry in unit tests). */
const encoder = new ConfluentBatchEncoder(ingestType, 42);

function ids(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

function input(events: unknown[]) {
  return { events, malformed: new Map<number, string>() };
}

describe('prepareIngest', () => {
  it('builds one keyed record per accepted event, in batch order, with fresh event ids', () => {
    const prepared = prepareIngest(
      input([
        track({ user_id: 'u1' }),
        track({ event: 'Bad' }),
        alias({ anonymous_id: 'a9', user_id: 'u9' }),
      ]),
      testContext(),
      encoder,
      ids(),
    );
    expect(prepared.records.map((r) => r.key)).toEqual(['acme/u1', 'acme/a9']);
    const decoded = prepared.records.map(
      (r) => ingestType.fromBuffer(r.value.subarray(5)) as Record<string, unknown>,
    );
    expect(decoded.map((d) => d['event_id'])).toEqual(['id-1', 'id-2']);
    expect(decoded.every((d) => d['project'] === 'acme' && d['received_at'] === RECEIVED_AT)).toBe(true);
  });

  it('answers with the accepted count, the rejections by index, warnings and dropped bots', () => {
    const prepared = prepareIngest(
      input([track(), track({ event: 'Bad' }), track({ context: { user_agent: GOOGLEBOT_UA } })]),
      testContext(),
      encoder,
      ids(),
    );
    expect(prepared.response).toEqual({
      accepted: 1,
      rejected: [{ index: 1, code: 'invalid_event_name', field: 'event', message: expect.any(String) }],
      warnings: [{ index: 0, code: 'undefined_event', field: 'event', message: expect.any(String) }],
      dropped: 1,
    });
  });

  it('sizes the batch as keys + values + per-record overhead', () => {
    const prepared = prepareIngest(
      input([track(), track({ user_id: 'u22' })]),
      testContext(),
      encoder,
      ids(),
    );
    const expected = prepared.records.reduce(
      (sum, r) => sum + r.key.length + r.value.length + RECORD_OVERHEAD_BYTES,
      0,
    );
    expect(prepared.bytes).toBe(expected);
  });

  it('reports a malformed ndjson line as malformed_json at its index, not as invalid_type', () => {
    const body = parseNdjsonText(
      `${JSON.stringify(track())}\n{oops\n${JSON.stringify(track({ user_id: 'u2' }))}`,
    );
    const prepared = prepareIngest(body.input, testContext(), encoder, ids());
    expect(prepared.response.accepted).toBe(2);
    expect(prepared.response.rejected).toEqual([
      {
        index: 1,
        code: MALFORMED_JSON,
        field: '',
        message: expect.stringMatching(/^line 2 is not valid JSON/),
      },
    ]);
  });

  it('produces no records and no error for an empty batch', () => {
    const prepared = prepareIngest(input([]), testContext(), encoder, ids());
    expect([prepared.records.length, prepared.bytes, prepared.response.accepted]).toEqual([0, 0, 0]);
  });
});
