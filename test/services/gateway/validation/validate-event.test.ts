import { describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../../../../services/gateway/src/validation/errors.ts';
import type { RejectionCode } from '../../../../services/gateway/src/validation/errors.ts';
import type { NormalizedEvent } from '../../../../services/gateway/src/validation/normalized-event.ts';
import { validateEvent } from '../../../../services/gateway/src/validation/validate-event.ts';
import type {
  EventVerdict,
  ValidationContext,
} from '../../../../services/gateway/src/validation/validate-event.ts';
import {
  CHROME_UA,
  DAY_MS,
  GOOGLEBOT_UA,
  MINUTE_MS,
  RECEIVED_AT,
  alias,
  definitionsOf,
  exposure,
  testContext,
  track,
  without,
} from '../../../helpers/gateway-validation.ts';

const ctx = testContext();

function accept(raw: unknown, context: ValidationContext = ctx) {
  const verdict = validateEvent(raw, context);
  if (verdict.status !== 'accepted') {
    throw new Error(`expected accepted, got ${JSON.stringify(verdict)} for ${JSON.stringify(raw)}`);
  }
  return verdict;
}

function acceptedEvent(raw: unknown, context: ValidationContext = ctx): NormalizedEvent {
  return accept(raw, context).event;
}

function trackBody(raw: unknown, context: ValidationContext = ctx) {
  const event = acceptedEvent(raw, context);
  if (event.kind !== 'track') throw new Error(`expected a track event, got ${event.kind}`);
  return event.body;
}

function describeVerdict(verdict: EventVerdict): string {
  return JSON.stringify(verdict);
}

type RejectCase = [name: string, raw: unknown, code: RejectionCode, field: string];

/**
 * One row per rule broken. The table must name every rejection code at least once (checked below),
 * so a new code cannot be added without a test.
 */
const REJECT_CASES: RejectCase[] = [
  // invalid_type: the event itself
  ['event is null', null, 'invalid_type', ''],
  ['event is an array', [track()], 'invalid_type', ''],
  ['event is a string', '{"type":"track"}', 'invalid_type', ''],
  ['event is a number', 42, 'invalid_type', ''],
  // invalid_type: fields
  ['type is a number', track({ type: 1 }), 'invalid_type', 'type'],
  ['user_id is a number', track({ user_id: 123 }), 'invalid_type', 'user_id'],
  ['anonymous_id is a boolean', track({ user_id: null, anonymous_id: true }), 'invalid_type', 'anonymous_id'],
  ['message_id is an object', track({ message_id: {} }), 'invalid_type', 'message_id'],
  ['decision_id is an array', track({ decision_id: ['d1'] }), 'invalid_type', 'decision_id'],
  ['experiment is a number', exposure({ experiment: 7 }), 'invalid_type', 'experiment'],
  ['variation is a boolean', exposure({ variation: false }), 'invalid_type', 'variation'],
  ['event name is a number', track({ event: 1 }), 'invalid_type', 'event'],
  ['value is a numeric string', track({ value: '49.99' }), 'invalid_type', 'value'],
  ['value is a boolean', track({ value: true }), 'invalid_type', 'value'],
  ['properties is an array', track({ properties: [['plan', 'pro']] }), 'invalid_type', 'properties'],
  ['properties is a string', track({ properties: 'plan=pro' }), 'invalid_type', 'properties'],
  ['sample is a numeric string', track({ sample: '0.5' }), 'invalid_type', 'sample'],
  ['timestamp is a boolean', track({ timestamp: true }), 'invalid_type', 'timestamp'],
  ['timestamp is an object', track({ timestamp: { ms: RECEIVED_AT } }), 'invalid_type', 'timestamp'],
  ['context is an array', track({ context: [CHROME_UA] }), 'invalid_type', 'context'],
  ['context is a string', exposure({ context: 'web' }), 'invalid_type', 'context'],
  // missing_field
  ['type absent without endpoint hint', without(track(), 'type'), 'missing_field', 'type'],
  ['type null without endpoint hint', track({ type: null }), 'missing_field', 'type'],
  ['exposure without experiment', without(exposure(), 'experiment'), 'missing_field', 'experiment'],
  ['exposure with experiment null', exposure({ experiment: null }), 'missing_field', 'experiment'],
  ['exposure without variation', without(exposure(), 'variation'), 'missing_field', 'variation'],
  ['track without event', without(track(), 'event'), 'missing_field', 'event'],
  ['track with event null', track({ event: null }), 'missing_field', 'event'],
  ['alias without user_id', without(alias(), 'user_id'), 'missing_field', 'user_id'],
  ['alias with user_id null', alias({ user_id: null }), 'missing_field', 'user_id'],
  ['alias without anonymous_id', without(alias(), 'anonymous_id'), 'missing_field', 'anonymous_id'],
  // missing_identity
  ['track without any id', without(track(), 'user_id'), 'missing_identity', 'user_id'],
  [
    'exposure with both ids null',
    exposure({ user_id: null, anonymous_id: null }),
    'missing_identity',
    'user_id',
  ],
  // invalid_kind / kind_mismatch
  ['type identify', track({ type: 'identify' }), 'invalid_kind', 'type'],
  ['type in capitals', track({ type: 'Track' }), 'invalid_kind', 'type'],
  ['type empty', track({ type: '' }), 'invalid_kind', 'type'],
  // empty_string
  ['user_id empty', track({ user_id: '' }), 'empty_string', 'user_id'],
  ['anonymous_id whitespace', track({ user_id: null, anonymous_id: '   ' }), 'empty_string', 'anonymous_id'],
  ['experiment empty', exposure({ experiment: '' }), 'empty_string', 'experiment'],
  ['message_id a tab', track({ message_id: '\t' }), 'empty_string', 'message_id'],
  ['property key empty', track({ properties: { '': 1 } }), 'empty_string', 'properties[""]'],
  // field_too_long
  ['user_id of 257 characters', track({ user_id: 'u'.repeat(257) }), 'field_too_long', 'user_id'],
  ['variation of 257 characters', exposure({ variation: 'v'.repeat(257) }), 'field_too_long', 'variation'],
  [
    'property key of 129 characters',
    track({ properties: { ['k'.repeat(129)]: 1 } }),
    'field_too_long',
    'properties',
  ],
  // invalid_characters
  ['user_id with NUL', track({ user_id: 'a\u0000b' }), 'invalid_characters', 'user_id'],
  ['anonymous_id with newline', track({ anonymous_id: 'a\nb' }), 'invalid_characters', 'anonymous_id'],
  ['user_id with C1 control', track({ user_id: 'a\u0085b' }), 'invalid_characters', 'user_id'],
  ['user_id with a lone surrogate', track({ user_id: 'u\ud800' }), 'invalid_characters', 'user_id'],
  [
    'property value with lone low surrogate',
    track({ properties: { p: '\udc00x' } }),
    'invalid_characters',
    'properties.p',
  ],
  [
    'property key with control',
    track({ properties: { 'a\u0007': 1 } }),
    'invalid_characters',
    'properties["a\\u0007"]',
  ],
  // invalid_event_name
  ['event name capitalised', track({ event: 'Purchase' }), 'invalid_event_name', 'event'],
  ['event name kebab-case', track({ event: 'signup-complete' }), 'invalid_event_name', 'event'],
  ['event name camelCase', track({ event: 'subscriptionStarted' }), 'invalid_event_name', 'event'],
  ['event name starting with a digit', track({ event: '1st_purchase' }), 'invalid_event_name', 'event'],
  ['event name with spaces', track({ event: 'User Purchased Thing!!' }), 'invalid_event_name', 'event'],
  ['event name empty', track({ event: '' }), 'invalid_event_name', 'event'],
  ['event name of 129 characters', track({ event: 'a'.repeat(129) }), 'invalid_event_name', 'event'],
  ['event name with an accent', track({ event: 'café' }), 'invalid_event_name', 'event'],
  // reserved_event_name
  ['event $exposure', track({ event: '$exposure' }), 'reserved_event_name', 'event'],
  ['event $alias', track({ event: '$alias' }), 'reserved_event_name', 'event'],
  ['event $', track({ event: '$' }), 'reserved_event_name', 'event'],
  // invalid_timestamp
  ['timestamp NaN', track({ timestamp: Number.NaN }), 'invalid_timestamp', 'timestamp'],
  ['timestamp Infinity', track({ timestamp: Number.POSITIVE_INFINITY }), 'invalid_timestamp', 'timestamp'],
  ['timestamp negative', track({ timestamp: -1 }), 'invalid_timestamp', 'timestamp'],
  [
    'timestamp as numeric string',
    track({ timestamp: String(RECEIVED_AT) }),
    'invalid_timestamp',
    'timestamp',
  ],
  ['timestamp as prose', track({ timestamp: 'yesterday' }), 'invalid_timestamp', 'timestamp'],
  ['timestamp empty string', track({ timestamp: '' }), 'invalid_timestamp', 'timestamp'],
  ['timestamp date only', track({ timestamp: '2026-05-21' }), 'invalid_timestamp', 'timestamp'],
  ['timestamp without zone', track({ timestamp: '2026-05-21T10:30:00' }), 'invalid_timestamp', 'timestamp'],
  ['timestamp February 30', track({ timestamp: '2026-02-30T10:00:00Z' }), 'invalid_timestamp', 'timestamp'],
  ['timestamp hour 24', track({ timestamp: '2026-05-21T24:00:00Z' }), 'invalid_timestamp', 'timestamp'],
  ['timestamp leap second', track({ timestamp: '2016-12-31T23:59:60Z' }), 'invalid_timestamp', 'timestamp'],
  [
    'timestamp RFC 2822',
    track({ timestamp: 'Thu, 21 May 2026 10:30:00 GMT' }),
    'invalid_timestamp',
    'timestamp',
  ],
  ['timestamp before 1970', track({ timestamp: '1969-12-31T23:59:59Z' }), 'invalid_timestamp', 'timestamp'],
  // timestamp_in_future
  [
    'timestamp 5 min + 1 ms ahead',
    track({ timestamp: RECEIVED_AT + 5 * MINUTE_MS + 1 }),
    'timestamp_in_future',
    'timestamp',
  ],
  [
    'timestamp ISO in year 2999',
    track({ timestamp: '2999-01-01T00:00:00Z' }),
    'timestamp_in_future',
    'timestamp',
  ],
  ['timestamp 1e20', track({ timestamp: 1e20 }), 'timestamp_in_future', 'timestamp'],
  [
    'timestamp whose offset puts it 6 min ahead',
    track({ timestamp: '2026-05-21T06:36:00-04:00' }),
    'timestamp_in_future',
    'timestamp',
  ],
  // timestamp_too_old
  [
    'timestamp 30 days + 1 ms old',
    track({ timestamp: RECEIVED_AT - 30 * DAY_MS - 1 }),
    'timestamp_too_old',
    'timestamp',
  ],
  ['timestamp 0', track({ timestamp: 0 }), 'timestamp_too_old', 'timestamp'],
  ['timestamp ISO in 2020', track({ timestamp: '2020-01-01T00:00:00Z' }), 'timestamp_too_old', 'timestamp'],
  // invalid_value
  ['value NaN', track({ value: Number.NaN }), 'invalid_value', 'value'],
  ['value Infinity', track({ value: Number.POSITIVE_INFINITY }), 'invalid_value', 'value'],
  ['value -Infinity', track({ value: Number.NEGATIVE_INFINITY }), 'invalid_value', 'value'],
  ['alias of an id to itself', alias({ anonymous_id: 'u1', user_id: 'u1' }), 'invalid_value', 'user_id'],
  // invalid_properties
  [
    "properties with a '__proto__' key (as JSON.parse builds it)",
    JSON.parse('{"type":"track","event":"purchase","user_id":"u1","properties":{"__proto__":"x"}}'),
    'invalid_properties',
    'properties.__proto__',
  ],
  ['property NaN', track({ properties: { score: Number.NaN } }), 'invalid_properties', 'properties.score'],
  [
    'property Infinity',
    track({ properties: { score: Number.POSITIVE_INFINITY } }),
    'invalid_properties',
    'properties.score',
  ],
  // nested_property
  [
    'property holding an object',
    track({ properties: { cart: { items: 2 } } }),
    'nested_property',
    'properties.cart',
  ],
  [
    'property holding an array',
    track({ properties: { tags: ['a', 'b'] } }),
    'nested_property',
    'properties.tags',
  ],
  [
    'property holding an empty object',
    track({ properties: { meta: {} } }),
    'nested_property',
    'properties.meta',
  ],
  [
    'nested property with a dotted key',
    track({ properties: { 'a.b': [] } }),
    'nested_property',
    'properties["a.b"]',
  ],
  // properties_too_large
  [
    'properties of 4097 bytes',
    track({ properties: { p: 'x'.repeat(4097 - 8) } }),
    'properties_too_large',
    'properties',
  ],
  // invalid_sample
  ['sample 0.009', track({ sample: 0.009 }), 'invalid_sample', 'sample'],
  ['sample 1.01', track({ sample: 1.01 }), 'invalid_sample', 'sample'],
  ['sample 0', track({ sample: 0 }), 'invalid_sample', 'sample'],
  ['sample negative', track({ sample: -0.5 }), 'invalid_sample', 'sample'],
  ['sample NaN', track({ sample: Number.NaN }), 'invalid_sample', 'sample'],
  // pii_email
  ['user_id is an e-mail', track({ user_id: 'jane.doe@example.com' }), 'pii_email', 'user_id'],
  [
    'anonymous_id is an e-mail',
    track({ user_id: null, anonymous_id: 'x+tag@mail.co.uk' }),
    'pii_email',
    'anonymous_id',
  ],
  ['alias user_id is an e-mail', alias({ user_id: 'bob@example.org' }), 'pii_email', 'user_id'],
  ['message_id holds an e-mail', track({ message_id: 'msg-bob@example.org-1' }), 'pii_email', 'message_id'],
  [
    'decision_id holds an e-mail',
    exposure({ decision_id: 'dec:ann@example.io' }),
    'pii_email',
    'decision_id',
  ],
  ['variation is an e-mail', exposure({ variation: 'ann@example.io' }), 'pii_email', 'variation'],
  ['unicode e-mail as user_id', track({ user_id: 'josé@exämple.de' }), 'pii_email', 'user_id'],
  [
    'property value is an e-mail',
    track({ properties: { contact: 'BOB@EXAMPLE.COM' } }),
    'pii_email',
    'properties.contact',
  ],
  [
    'property value contains an e-mail in text',
    track({ properties: { note: 'please write to bob@example.com soon' } }),
    'pii_email',
    'properties.note',
  ],
  [
    'property key is an e-mail',
    track({ properties: { 'bob@example.com': true } }),
    'pii_email',
    'properties',
  ],
];

describe('validateEvent rejections', () => {
  it.each(REJECT_CASES)('%s → %s', (_name, raw, code, field) => {
    const verdict = validateEvent(raw, ctx);
    expect(verdict.status, describeVerdict(verdict)).toBe('rejected');
    if (verdict.status !== 'rejected') return;
    expect(verdict.code, describeVerdict(verdict)).toBe(code);
    expect(verdict.field, describeVerdict(verdict)).toBe(field);
    expect(verdict.message.length, 'the message explains the rule').toBeGreaterThan(10);
  });

  it('has a test row (above or in the kind and schema tests below) for every rejection code', () => {
    const covered = new Set<RejectionCode>([
      ...REJECT_CASES.map((c) => c[2]),
      'kind_mismatch',
      'schema_violation',
    ]);
    const missing = REJECTION_CODES.filter((code) => !covered.has(code));
    expect(missing, 'rejection codes without a test').toEqual([]);
  });

  it('names the field and the limit in the message of a too-long id', () => {
    const verdict = validateEvent(track({ user_id: 'u'.repeat(300) }), ctx);
    expect(verdict.status === 'rejected' && verdict.message).toBe(
      'user_id is 300 characters long; the limit is 256',
    );
  });

  it('does not echo an e-mail address back in the message', () => {
    const verdict = validateEvent(track({ user_id: 'jane.doe@example.com' }), ctx);
    expect(verdict.status === 'rejected' && verdict.message, 'message').not.toContain('jane.doe');
  });

  it('hints at camelCase when the ids were sent as userId', () => {
    const verdict = validateEvent({ type: 'track', event: 'purchase', userId: 'u1' }, ctx);
    expect(verdict.status === 'rejected' && verdict.message).toContain("found 'userId'");
  });

  it('hints at seconds when a numeric timestamp is far too small for milliseconds', () => {
    const verdict = validateEvent(track({ timestamp: Math.floor(RECEIVED_AT / 1000) }), ctx);
    expect(verdict.status === 'rejected' && verdict.message).toContain('seconds instead of milliseconds');
  });

  it('names the window in human units in the future-timestamp message', () => {
    const verdict = validateEvent(track({ timestamp: RECEIVED_AT + 6 * MINUTE_MS }), ctx);
    expect(verdict.status === 'rejected' && verdict.message).toContain('more than 5 minutes after');
  });

  it('reports the first broken rule when several are broken (type before identity)', () => {
    const verdict = validateEvent({ type: 'nope', user_id: 5 }, ctx);
    expect(verdict.status === 'rejected' && verdict.code).toBe('invalid_kind');
  });
});

describe('validateEvent normalisation', () => {
  it('normalises a full track event to the wire shape', () => {
    const event = acceptedEvent(
      track({
        anonymous_id: 'anon-1',
        message_id: 'm-1',
        decision_id: 'dec-1',
        timestamp: '2026-05-21T10:00:00Z',
        value: 49.99,
        sample: 0.5,
        properties: { plan: 'pro', seats: 3, trial: false },
        context: { user_agent: CHROME_UA, locale: 'de-DE' },
      }),
    );
    expect(event).toEqual({
      kind: 'track',
      timestamp: Date.parse('2026-05-21T10:00:00Z'),
      message_id: 'm-1',
      user_id: 'u1',
      anonymous_id: 'anon-1',
      body: {
        event: 'purchase',
        value: 49.99,
        properties: { plan: 'pro', seats: 3, trial: false },
        decision_id: 'dec-1',
        sample: 0.5,
      },
      context: { user_agent: CHROME_UA, locale: 'de-DE' },
    });
  });

  it('normalises a minimal track event with every optional field defaulted', () => {
    expect(acceptedEvent(track())).toEqual({
      kind: 'track',
      timestamp: RECEIVED_AT,
      message_id: null,
      user_id: 'u1',
      anonymous_id: null,
      body: { event: 'purchase', value: null, properties: {}, decision_id: null, sample: 1 },
      context: {},
    });
  });

  it('normalises an exposure', () => {
    expect(
      acceptedEvent(exposure({ user_id: null, anonymous_id: 'a-9', decision_id: 'dec_abc123' })),
    ).toEqual({
      kind: 'exposure',
      timestamp: RECEIVED_AT,
      message_id: null,
      user_id: null,
      anonymous_id: 'a-9',
      body: {
        experiment: 'checkout_color',
        variation: 'treatment',
        decision_id: 'dec_abc123',
        properties: {},
      },
      context: {},
    });
  });

  it('normalises an alias with an empty body and no context', () => {
    expect(acceptedEvent(alias({ message_id: 'm-7' }))).toEqual({
      kind: 'alias',
      timestamp: RECEIVED_AT,
      message_id: 'm-7',
      user_id: 'u1',
      anonymous_id: 'anon-1',
      body: {},
      context: {},
    });
  });

  it.each([
    ['value', { value: null }, (b: ReturnType<typeof trackBody>) => b.value, null],
    ['properties', { properties: null }, (b: ReturnType<typeof trackBody>) => b.properties, {}],
    ['sample', { sample: null }, (b: ReturnType<typeof trackBody>) => b.sample, 1],
    ['decision_id', { decision_id: null }, (b: ReturnType<typeof trackBody>) => b.decision_id, null],
  ])('treats %s: null like a missing field', (_field, fields, pick, expected) => {
    expect(pick(trackBody(track(fields)))).toEqual(expected);
    expect(pick(trackBody(track()))).toEqual(expected);
  });

  it('treats timestamp: null as absent (the receive time)', () => {
    expect(acceptedEvent(track({ timestamp: null })).timestamp).toBe(RECEIVED_AT);
  });

  it('treats message_id, user_id and context null as absent', () => {
    const event = acceptedEvent(track({ message_id: null, user_id: null, anonymous_id: 'a', context: null }));
    expect([event.message_id, event.user_id, event.context]).toEqual([null, null, {}]);
  });

  it('keeps a zero value (zero is not absence)', () => {
    expect(trackBody(track({ value: 0 })).value).toBe(0);
  });

  it('keeps negative and fractional currency values', () => {
    expect(trackBody(track({ value: -12.5 })).value).toBe(-12.5);
  });
});

describe('validateEvent ids', () => {
  it.each([
    ['emoji', '🧪user-👩‍👩‍👧'],
    ['RTL Arabic', 'مستخدم-٤٢'],
    ['RTL Hebrew with a mark', 'משתמש\u200f1'],
    ['combining marks', 'Zoe\u0301 Z\u0335\u0336a'],
    ['CJK', '用户一号'],
    ['a handle without a dot-domain', 'a@b'],
    ['a mention', '@alice'],
    ['a host without a dot', 'user@localhost'],
    ['a package version', 'liftstream@1.2.3'],
    ['exactly 256 characters', 'u'.repeat(256)],
  ])('accepts a user_id with %s unchanged', (_name, id) => {
    expect(acceptedEvent(track({ user_id: id })).user_id).toBe(id);
  });

  it('does not trim ids: surrounding spaces are part of the opaque id', () => {
    expect(acceptedEvent(track({ user_id: ' u1 ' })).user_id).toBe(' u1 ');
  });

  it('accepts an exposure with only an anonymous_id', () => {
    expect(acceptedEvent(exposure({ user_id: undefined, anonymous_id: 'anon-1' })).anonymous_id).toBe(
      'anon-1',
    );
  });

  it('accepts unicode experiment and variation keys', () => {
    const event = acceptedEvent(exposure({ experiment: 'тест_кнопки', variation: 'B—🟢' }));
    expect(event.kind === 'exposure' && event.body).toEqual({
      experiment: 'тест_кнопки',
      variation: 'B—🟢',
      decision_id: null,
      properties: {},
    });
  });
});

describe('validateEvent timestamps', () => {
  it.each([
    ['Z', '2026-05-21T10:00:00Z', Date.parse('2026-05-21T10:00:00Z')],
    ['a positive offset', '2026-05-21T12:00:00+02:00', Date.parse('2026-05-21T10:00:00Z')],
    ['a negative half-hour offset', '2026-05-21T04:30:00-05:30', Date.parse('2026-05-21T10:00:00Z')],
    [
      'a +14:00 offset crossing the date line',
      '2026-05-22T00:00:00+14:00',
      Date.parse('2026-05-21T10:00:00Z'),
    ],
    ['milliseconds', '2026-05-21T10:00:00.123Z', Date.parse('2026-05-21T10:00:00.123Z')],
    [
      'nanoseconds (truncated to ms)',
      '2026-05-21T10:00:00.123999999Z',
      Date.parse('2026-05-21T10:00:00.123Z'),
    ],
    ['one fractional digit', '2026-05-21T10:00:00.5Z', Date.parse('2026-05-21T10:00:00.500Z')],
    ['lower-case t and z', '2026-05-21t10:00:00z', Date.parse('2026-05-21T10:00:00Z')],
  ])('accepts an ISO-8601 timestamp with %s', (_name, iso, expected) => {
    expect(acceptedEvent(track({ timestamp: iso })).timestamp).toBe(expected);
  });

  it('accepts a timestamp exactly 5 minutes ahead (edge inclusive)', () => {
    expect(acceptedEvent(track({ timestamp: RECEIVED_AT + 5 * MINUTE_MS })).timestamp).toBe(
      RECEIVED_AT + 5 * MINUTE_MS,
    );
  });

  it('accepts a timestamp exactly 30 days old (edge inclusive)', () => {
    expect(acceptedEvent(track({ timestamp: RECEIVED_AT - 30 * DAY_MS })).timestamp).toBe(
      RECEIVED_AT - 30 * DAY_MS,
    );
  });

  it('floors fractional milliseconds', () => {
    expect(acceptedEvent(track({ timestamp: RECEIVED_AT - 0.7 })).timestamp).toBe(RECEIVED_AT - 1);
  });

  it('accepts a 29 February in a leap year', () => {
    const leapCtx = testContext();
    const within = { ...leapCtx, receivedAt: Date.parse('2028-03-01T00:00:00Z') };
    expect(acceptedEvent(track({ timestamp: '2028-02-29T12:00:00Z' }), within).timestamp).toBe(
      Date.parse('2028-02-29T12:00:00Z'),
    );
  });

  it('honours a custom backfill window from the context', () => {
    const strict = { ...ctx, backfillMs: DAY_MS };
    const verdict = validateEvent(track({ timestamp: RECEIVED_AT - 2 * DAY_MS }), strict);
    expect(verdict.status === 'rejected' && verdict.code).toBe('timestamp_too_old');
  });

  it('honours a custom future allowance from the context', () => {
    const lax = { ...ctx, maxFutureMs: 60 * MINUTE_MS };
    expect(acceptedEvent(track({ timestamp: RECEIVED_AT + 30 * MINUTE_MS }), lax).timestamp).toBe(
      RECEIVED_AT + 30 * MINUTE_MS,
    );
  });
});

describe('validateEvent sample', () => {
  it.each([0.01, 0.5, 1])('accepts sample %s', (sample) => {
    expect(trackBody(track({ sample })).sample).toBe(sample);
  });
});

describe('validateEvent properties', () => {
  it('accepts unicode property values unchanged (emoji, RTL, combining marks)', () => {
    const properties = { label: '🛒 سلة e\u0301', note: 'line one\nline two', empty: '' };
    expect(trackBody(track({ properties })).properties).toEqual(properties);
  });

  it('keeps numbers sent as strings as strings (no coercion)', () => {
    expect(trackBody(track({ properties: { total: '49.99', flag: 'true' } })).properties).toEqual({
      total: '49.99',
      flag: 'true',
    });
  });

  it('accepts properties of exactly 4096 bytes', () => {
    const properties = { p: 'x'.repeat(4096 - 8) }; // {"p":"…"} adds 8 bytes
    expect(Buffer.byteLength(JSON.stringify(properties)), 'fixture size').toBe(4096);
    expect(trackBody(track({ properties })).properties).toEqual(properties);
  });

  it('counts UTF-8 bytes, not characters: 1,100 emoji are 4,408 bytes', () => {
    const properties = { p: '😀'.repeat(1100) };
    expect(JSON.stringify(properties).length, 'fixture is short in UTF-16 units').toBeLessThan(4096);
    const verdict = validateEvent(track({ properties }), ctx);
    expect(verdict.status === 'rejected' && verdict.code).toBe('properties_too_large');
  });

  it("accepts 'constructor', 'prototype' and 'toString' as plain keys without touching Object.prototype", () => {
    const raw = JSON.parse(
      '{"type":"track","event":"purchase","user_id":"u1","properties":{"constructor":"x","prototype":1,"toString":true}}',
    );
    const properties = trackBody(raw).properties;
    expect(Object.getPrototypeOf(properties), 'null-prototype map').toBeNull();
    expect(Object.keys(properties)).toEqual(['constructor', 'prototype', 'toString']);
    expect(properties['constructor']).toBe('x');
    expect(typeof ({} as Record<string, unknown>)['toString'], 'Object.prototype intact').toBe('function');
  });

  it('does not pollute Object.prototype when rejecting a __proto__ key', () => {
    const raw = JSON.parse(
      '{"type":"track","event":"purchase","user_id":"u1","properties":{"__proto__":{"polluted":1}}}',
    );
    validateEvent(raw, ctx);
    expect(({} as Record<string, unknown>)['polluted'], 'Object.prototype.polluted').toBeUndefined();
  });

  it('leaves out a null property with a null_property warning', () => {
    const verdict = accept(track({ properties: { plan: 'pro', coupon: null } }));
    expect(verdict.event.kind === 'track' && verdict.event.body.properties).toEqual({ plan: 'pro' });
    expect(verdict.warnings).toEqual([
      { code: 'null_property', field: 'properties.coupon', message: expect.stringContaining('null') },
      expect.objectContaining({ code: 'undefined_event' }),
    ]);
  });

  it('accepts an empty properties object', () => {
    expect(trackBody(track({ properties: {} })).properties).toEqual({});
  });
});

describe('validateEvent exposure properties (the track rules)', () => {
  function exposureVerdict(properties: unknown): EventVerdict {
    return validateEvent(exposure({ properties }), ctx);
  }

  it('accepts flat string, number and boolean properties and forwards them unchanged', () => {
    const properties = { country: 'DE', seats: 3, ratio: 0.25, beta: true, note: '' };
    const event = acceptedEvent(exposure({ properties }));
    expect(event.kind === 'exposure' && event.body.properties).toEqual(properties);
  });

  it('rejects an e-mail address, naming the property without echoing it', () => {
    const verdict = exposureVerdict({ country: 'DE', contact: 'jane.doe@example.com' });
    expect(verdict).toMatchObject({ status: 'rejected', code: 'pii_email', field: 'properties.contact' });
    expect(verdict.status === 'rejected' && verdict.message).not.toContain('jane.doe');
  });

  it('rejects properties over 4096 bytes of JSON as too large, and accepts exactly 4096', () => {
    const atLimit = { p: 'x'.repeat(4096 - 8) };
    expect(exposureVerdict(atLimit).status, '4096 bytes').toBe('accepted');
    expect(exposureVerdict({ p: 'x'.repeat(4096 - 7) })).toMatchObject({
      status: 'rejected',
      code: 'properties_too_large',
      field: 'properties',
    });
  });

  it.each<[string, unknown, RejectionCode, string]>([
    ['a nested object', { geo: { country: 'DE' } }, 'nested_property', 'properties.geo'],
    ['a non-finite number', { seats: Number.NaN }, 'invalid_properties', 'properties.seats'],
    ['an array instead of an object', ['DE'], 'invalid_type', 'properties'],
  ])('rejects %s like on a track event', (_name, properties, code, field) => {
    expect(exposureVerdict(properties)).toMatchObject({ status: 'rejected', code, field });
    expect(validateEvent(track({ properties }), ctx), 'same verdict on a track').toMatchObject({
      code,
      field,
    });
  });

  it('leaves out a null property with a warning, and no properties is {}', () => {
    const verdict = accept(exposure({ properties: { country: null, plan: 'pro' } }));
    expect(verdict.event.kind === 'exposure' && verdict.event.body.properties).toEqual({ plan: 'pro' });
    expect(verdict.warnings.map((w) => [w.code, w.field])).toEqual([['null_property', 'properties.country']]);
    const bare = acceptedEvent(exposure());
    expect(bare.kind === 'exposure' && bare.body.properties).toEqual({});
  });
});

describe('validateEvent context', () => {
  it('keeps string context values and drops the others with warnings', () => {
    const verdict = accept(
      exposure({
        context: { user_agent: CHROME_UA, viewport_width: 1280, dnt: true, screen: { w: 1 }, ref: null },
      }),
    );
    expect(verdict.event.context).toEqual({ user_agent: CHROME_UA });
    expect(verdict.warnings.map((w) => [w.code, w.field])).toEqual([
      ['context_value_dropped', 'context.viewport_width'],
      ['context_value_dropped', 'context.dnt'],
      ['context_value_dropped', 'context.screen'],
      ['context_value_dropped', 'context.ref'],
    ]);
  });

  it('drops a context value holding an e-mail address without echoing it', () => {
    const verdict = accept(
      exposure({ context: { page_url: 'https://shop.example/?email=bob@example.com' } }),
    );
    expect(verdict.event.context).toEqual({});
    expect(verdict.warnings[0]?.field).toBe('context.page_url');
    expect(verdict.warnings[0]?.message).not.toContain('bob');
  });

  it('drops a context value over 1024 characters', () => {
    const verdict = accept(exposure({ context: { blob: 'x'.repeat(1025), ok: 'y'.repeat(1024) } }));
    expect(Object.keys(verdict.event.context)).toEqual(['ok']);
  });

  it('drops a __proto__ context key', () => {
    const raw = JSON.parse(
      '{"type":"exposure","experiment":"e","variation":"v","user_id":"u1","context":{"__proto__":"x","locale":"fr"}}',
    );
    const verdict = accept(raw);
    expect(verdict.event.context).toEqual({ locale: 'fr' });
    expect(verdict.warnings.map((w) => w.code)).toEqual(['context_value_dropped']);
  });
});

describe('validateEvent bots', () => {
  it('drops an event from Googlebot', () => {
    const verdict = validateEvent(exposure({ context: { user_agent: GOOGLEBOT_UA } }), ctx);
    expect(verdict).toEqual({
      status: 'dropped',
      reason: 'bot',
      field: 'context.user_agent',
      message: expect.stringContaining('known bot'),
    });
  });

  it('accepts the same event from Chrome', () => {
    expect(acceptedEvent(exposure({ context: { user_agent: CHROME_UA } })).context['user_agent']).toBe(
      CHROME_UA,
    );
  });

  it('drops bot traffic even when the event is otherwise invalid', () => {
    const verdict = validateEvent({ type: 'bogus', context: { user_agent: GOOGLEBOT_UA } }, ctx);
    expect(verdict.status).toBe('dropped');
  });

  it('drops an alias carrying a bot user agent', () => {
    expect(validateEvent(alias({ context: { user_agent: GOOGLEBOT_UA } }), ctx).status).toBe('dropped');
  });

  it('does not treat a non-string user_agent as a bot (it is dropped from context instead)', () => {
    const verdict = accept(track({ context: { user_agent: 42 } }));
    expect(verdict.warnings[0]).toMatchObject({ code: 'context_value_dropped', field: 'context.user_agent' });
  });
});

describe('validateEvent kinds and endpoint hints', () => {
  it('takes the kind from the endpoint when type is omitted', () => {
    expect(acceptedEvent(without(track(), 'type'), testContext({ kindHint: 'track' })).kind).toBe('track');
  });

  it('accepts a type that matches the endpoint', () => {
    expect(acceptedEvent(alias(), testContext({ kindHint: 'alias' })).kind).toBe('alias');
  });

  it('rejects a type that contradicts the endpoint with kind_mismatch', () => {
    const verdict = validateEvent(alias(), testContext({ kindHint: 'track' }));
    expect(verdict).toMatchObject({ status: 'rejected', code: 'kind_mismatch', field: 'type' });
  });
});

describe('validateEvent unknown fields', () => {
  it('ignores an unknown top-level field with a warning', () => {
    const verdict = accept(exposure({ sent_at: '2026-05-21T10:30:00Z' }));
    expect(verdict.warnings).toEqual([
      { code: 'unknown_field', field: 'sent_at', message: expect.stringContaining('forward compatibility') },
    ]);
    expect(Object.keys(verdict.event)).not.toContain('sent_at');
  });

  it('suggests the snake_case name for a camelCase field', () => {
    const verdict = accept(exposure({ decisionId: 'd1' }));
    expect(verdict.warnings[0]?.message).toContain("did you mean 'decision_id'");
  });

  it('warns about a known field sent on the wrong event type', () => {
    const verdict = accept(exposure({ value: 3 }));
    expect(verdict.warnings).toEqual([
      { code: 'unknown_field', field: 'value', message: expect.stringContaining('not of exposure events') },
    ]);
  });

  it('ignores context on an alias with a warning', () => {
    const verdict = accept(alias({ context: { locale: 'fr' } }));
    expect([verdict.event.context, verdict.warnings.map((w) => w.field)]).toEqual([{}, ['context']]);
  });
});

describe('validateEvent event definitions', () => {
  const definitions = definitionsOf({
    events: {
      purchase: {
        valueType: 'currency',
        schemaEnforcement: 'reject',
        properties: { plan: { type: 'string', required: true, enum: ['free', 'pro'] } },
      },
      add_to_cart: { valueType: 'count', schemaEnforcement: 'warn' },
      video_watched: { valueType: 'rate', schemaEnforcement: 'off' },
    },
  });
  const defined = testContext({ definitions });

  it('reports an undefined event as discovered with a warning and its name', () => {
    const verdict = accept(track({ event: 'brand_new_event' }), defined);
    expect([verdict.undefinedEvent, verdict.warnings.map((w) => w.code)]).toEqual([
      'brand_new_event',
      ['undefined_event'],
    ]);
  });

  it('accepts a defined event that matches its definition without warnings', () => {
    const verdict = accept(track({ properties: { plan: 'pro' } }), defined);
    expect([verdict.undefinedEvent, verdict.warnings]).toEqual([null, []]);
  });

  it("rejects with schema_violation under 'reject', naming the property and the rule", () => {
    const verdict = validateEvent(track({ properties: { plan: 'gold' } }), defined);
    expect(verdict).toMatchObject({ status: 'rejected', code: 'schema_violation', field: 'properties.plan' });
    expect(verdict.status === 'rejected' && verdict.message).toContain('must be one of "free", "pro"');
  });

  it("rejects a missing required property under 'reject'", () => {
    const verdict = validateEvent(track(), defined);
    expect(verdict).toMatchObject({ code: 'schema_violation', field: 'properties.plan' });
  });

  it("accepts with a schema_violation warning under 'warn'", () => {
    const verdict = accept(track({ event: 'add_to_cart', value: 2.5 }), defined);
    expect(verdict.warnings).toEqual([
      { code: 'schema_violation', field: 'value', message: expect.stringContaining('non-negative integer') },
    ]);
    expect(verdict.event.kind === 'track' && verdict.event.body.value, 'value kept').toBe(2.5);
  });

  it("skips every check under 'off'", () => {
    expect(accept(track({ event: 'video_watched', value: 7 }), defined).warnings).toEqual([]);
  });
});
