import { describe, expect, it } from 'vitest';
import {
  deserializeUnitMessage,
  serializeUnitMessage,
} from '../../../../services/processor/src/domain/unit-message-codec.ts';
import type { UnitMessage } from '../../../../services/processor/src/domain/unit-message.ts';
import { exposure, track } from '../../../helpers/processor/builders.ts';

const messages: Array<[string, UnitMessage]> = [
  [
    'an exposure event',
    { type: 'event', project: 'p', unit: 'u', event: exposure('x1', 1000, 'B', { decision: 'd' }), via: [] },
  ],
  [
    'a track event that passed through merged units',
    {
      type: 'event',
      project: 'p',
      unit: 'u',
      event: track('t1', 1100, { value: 2, weight: 4 }),
      via: ['a', 'b'],
    },
  ],
  ['a merge command', { type: 'merge', project: 'p', unit: 'anon', into: 'u' }],
  [
    'a merge-in with content',
    {
      type: 'merge-in',
      project: 'p',
      unit: 'u',
      content: {
        exposures: [
          {
            experiment: 'e',
            first_exposure_at: 5,
            variation: 'A',
            multiple_exposure: true,
            decision_ids: ['d'],
            dimensions: { country: 'DE' },
          },
        ],
        tracks: [track('t2', 7)],
      },
      via: ['anon'],
    },
  ],
];

describe('unit message codec', () => {
  it.each(messages)('round-trips %s', (_name, message) => {
    expect(deserializeUnitMessage(serializeUnitMessage(message)), 'decoded equals encoded').toEqual({
      ok: true,
      value: message,
    });
  });

  it('reads version 1 messages, written before exposures had dimensions, with no dimension values', () => {
    const event = exposure('x1', 1000, 'B', { decision: 'd' });
    const { dimensions: _none, ...v1Event } = event;
    const v1Content = {
      exposures: [
        { experiment: 'e', first_exposure_at: 5, variation: 'A', multiple_exposure: false, decision_ids: [] },
      ],
      tracks: [],
    };
    const read = (state: object) => deserializeUnitMessage(JSON.stringify({ v: 1, state }));
    expect(
      read({ type: 'event', project: 'p', unit: 'u', event: v1Event, via: [] }),
      'an exposure event',
    ).toEqual({
      ok: true,
      value: { type: 'event', project: 'p', unit: 'u', event: { ...event, dimensions: {} }, via: [] },
    });
    expect(
      read({ type: 'merge-in', project: 'p', unit: 'u', content: v1Content, via: ['a'] }),
      'a merge-in',
    ).toEqual({
      ok: true,
      value: {
        type: 'merge-in',
        project: 'p',
        unit: 'u',
        content: { exposures: [{ ...v1Content.exposures[0], dimensions: {} }], tracks: [] },
        via: ['a'],
      },
    });
  });

  it.each([
    [
      'a newer version',
      '{"v":3,"state":{"type":"merge","project":"p","unit":"a","into":"u"}}',
      'unsupported version 3; this build reads versions 1, 2',
    ],
    ['an unknown type', '{"v":1,"state":{"type":"split","project":"p","unit":"a"}}', 'unexpected shape'],
    [
      'a merge without target',
      '{"v":1,"state":{"type":"merge","project":"p","unit":"a"}}',
      'unexpected shape',
    ],
    [
      'an exposure without dimensions in version 2',
      '{"v":2,"state":{"type":"event","project":"p","unit":"u","via":[],"event":{"kind":"exposure","event_id":"x","timestamp":1,"experiment":"e","variation":"A","decision_id":null}}}',
      'unexpected shape',
    ],
    [
      'an event without via',
      '{"v":1,"state":{"type":"event","project":"p","unit":"u","event":{"kind":"exposure","event_id":"x","timestamp":1,"experiment":"e","variation":"A","decision_id":null}}}',
      'unexpected shape',
    ],
    [
      'an exposure without variation',
      '{"v":1,"state":{"type":"event","project":"p","unit":"u","via":[],"event":{"kind":"exposure","event_id":"x","timestamp":1,"experiment":"e","decision_id":null}}}',
      'unexpected shape',
    ],
    ['not JSON', 'v1', 'not JSON'],
  ])('rejects %s as an error value', (_name, json, message) => {
    const decoded = deserializeUnitMessage(json);
    expect(decoded.ok, 'decoding fails').toBe(false);
    expect(decoded.ok ? '' : decoded.error, 'the error names the store and the reason').toContain(message);
    expect(decoded.ok ? '' : decoded.error).toMatch(/^unit-message: /);
  });
});
