import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '../../../services/processor/src/domain/ingest-event.ts';
import { ingestJson, ingestLine, matchesFilter } from '../../../cli/src/ingest-line.ts';
import { ansi, plain } from '../../../cli/src/text-table.ts';

const at = Date.parse('2026-12-05T17:28:28.989Z');
const envelope = {
  event_id: 'e-1',
  project: 'demo',
  received_at: at + 5,
  timestamp: at,
  message_id: 'm-1',
  user_id: null,
  anonymous_id: null,
  context: {},
};
const exposure: IngestEvent = {
  ...envelope,
  user_id: 'u-1',
  body: {
    kind: 'exposure',
    experiment: 'checkout',
    variation: 'treatment',
    decision_id: null,
    properties: {},
  },
};
const track: IngestEvent = {
  ...envelope,
  anonymous_id: 'a-3',
  body: { kind: 'track', event: 'purchase', value: 35, decision_id: null, sample: 1 },
};
const alias: IngestEvent = { ...envelope, user_id: 'u-3', anonymous_id: 'a-3', body: { kind: 'alias' } };

describe('tail lines', () => {
  it('one line per event: event time, project, type, ids, then what it says', () => {
    expect(ingestLine(exposure, plain)).toBe(
      '2026-12-05T17:28:28.989Z demo exposure user_id=u-1 experiment=checkout variation=treatment',
    );
    expect(ingestLine(track, plain)).toBe(
      '2026-12-05T17:28:28.989Z demo track    anonymous_id=a-3 event=purchase value=35',
    );
    expect(ingestLine(alias, plain)).toBe(
      '2026-12-05T17:28:28.989Z demo alias    user_id=u-3 anonymous_id=a-3',
    );
  });

  it('shows a sample rate other than 1 and leaves out a missing value', () => {
    const sampled: IngestEvent = {
      ...track,
      body: { kind: 'track', event: 'view', value: null, decision_id: null, sample: 0.1 },
    };
    expect(ingestLine(sampled, plain)).toMatch(/ event=view sample=0\.1$/);
  });

  it('quotes values with blanks, quotes or "=", and never lets a control character through raw', () => {
    const odd: IngestEvent = {
      ...exposure,
      user_id: 'jane doe',
      body: { ...exposure.body, experiment: 'a=b' } as IngestEvent['body'],
    };
    expect(ingestLine(odd, plain)).toContain('user_id="jane doe" experiment="a=b"');
    const hostile: IngestEvent = { ...exposure, user_id: 'x\u001b[2Jy\u009b' };
    const line = ingestLine(hostile, plain);
    expect(line).toContain('user_id="x\\u001b[2Jy\\u009b"');
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    expect(line, 'no control character').not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('colours the type on a terminal without changing the text', () => {
    const coloured = ingestLine(track, ansi);
    expect(coloured).not.toBe(ingestLine(track, plain));
    expect(stripVTControlCharacters(coloured)).toBe(ingestLine(track, plain));
  });

  it('--json: one flat object as the Event API takes it, with the gateway fields and ISO times', () => {
    expect(JSON.parse(ingestJson(track))).toEqual({
      timestamp: '2026-12-05T17:28:28.989Z',
      received_at: '2026-12-05T17:28:28.994Z',
      event_id: 'e-1',
      project: 'demo',
      type: 'track',
      message_id: 'm-1',
      user_id: null,
      anonymous_id: 'a-3',
      event: 'purchase',
      value: 35,
      decision_id: null,
      sample: 1,
      context: {},
    });
    expect(ingestJson(alias), 'one line').not.toContain('\n');
  });
});

describe('tail filters', () => {
  it('keeps everything without a filter, and each filter narrows by project, type or unit', () => {
    for (const e of [exposure, track, alias]) expect(matchesFilter(e, {})).toBe(true);
    expect(matchesFilter(track, { project: 'shop' })).toBe(false);
    expect(matchesFilter(track, { type: 'track' })).toBe(true);
    expect(matchesFilter(exposure, { type: 'track' })).toBe(false);
  });

  it('a unit matches a user_id or an anonymous_id', () => {
    expect(matchesFilter(exposure, { unit: 'u-1' })).toBe(true);
    expect(matchesFilter(track, { unit: 'a-3' })).toBe(true);
    expect(matchesFilter(alias, { unit: 'u-3' })).toBe(true);
    expect(matchesFilter(alias, { unit: 'a-3', type: 'alias', project: 'demo' })).toBe(true);
    expect(matchesFilter(exposure, { unit: 'a-3' })).toBe(false);
  });
});
