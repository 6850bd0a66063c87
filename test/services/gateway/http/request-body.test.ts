import { describe, expect, it } from 'vitest';
import { GatewayHttpError } from '../../../../services/gateway/src/http/http-errors.ts';
import {
  batchInput,
  parseJsonText,
  parseNdjsonText,
  singleEventInput,
} from '../../../../services/gateway/src/http/request-body.ts';

/** The code of the GatewayHttpError `fn` throws, or 'no error'. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (err) {
    if (err instanceof GatewayHttpError) return err.code;
    throw err;
  }
}

describe('parseJsonText', () => {
  it('parses JSON', () => {
    expect(parseJsonText('{"batch":[]}')).toEqual({ batch: [] });
  });

  it('refuses an empty body as invalid_json', () => {
    expect(codeOf(() => parseJsonText('  '))).toBe('invalid_json');
  });

  it('names the parse error in the message', () => {
    try {
      parseJsonText('{"batch": [1,}');
      expect.unreachable('should throw');
    } catch (err) {
      expect((err as GatewayHttpError).code).toBe('invalid_json');
      expect((err as GatewayHttpError).message).toMatch(/^the request body is not valid JSON: .+/);
    }
  });

  it('keeps a "__proto__" key as plain data for validation to reject', () => {
    const parsed = parseJsonText('{"properties":{"__proto__":"x"}}') as { properties: object };
    expect(Object.getPrototypeOf(parsed.properties), 'the prototype is untouched').toBe(Object.prototype);
    expect(Object.keys(parsed.properties)).toEqual(['__proto__']);
  });
});

describe('parseNdjsonText', () => {
  it('reads one event per line, skipping blank lines and a trailing newline', () => {
    const { input } = parseNdjsonText('{"a":1}\n\n  \n{"b":2}\n');
    expect(input.events).toEqual([{ a: 1 }, { b: 2 }]);
    expect(input.malformed.size).toBe(0);
  });

  it('marks a malformed line by event index and names its line number', () => {
    const { input } = parseNdjsonText('{"a":1}\n\n{"b":\n{"c":3}');
    expect(input.events.length).toBe(3);
    expect([...input.malformed.keys()], 'index among non-blank lines').toEqual([1]);
    expect(input.malformed.get(1)).toMatch(/^line 3 is not valid JSON/);
    expect(input.events[2]).toEqual({ c: 3 });
  });

  it('accepts CRLF line ends', () => {
    expect(parseNdjsonText('{"a":1}\r\n{"b":2}\r\n').input.events).toEqual([{ a: 1 }, { b: 2 }]);
  });
});

describe('batchInput', () => {
  it('takes the events of { batch: [...] }', () => {
    expect(batchInput({ batch: [1, 2] }, 10).events).toEqual([1, 2]);
  });

  it.each([
    ['an array', [{}]],
    ['null', null],
    ['a string', 'batch'],
    ['no batch field', { events: [] }],
    ['batch as an object', { batch: {} }],
    ['no body', undefined],
  ])('refuses %s as invalid_body', (_name, body) => {
    expect(codeOf(() => batchInput(body, 10))).toBe('invalid_body');
  });

  it('refuses more than maxEvents events as too_many_events, for JSON and ndjson alike', () => {
    expect(codeOf(() => batchInput({ batch: [1, 2, 3] }, 2))).toBe('too_many_events');
    expect(codeOf(() => batchInput(parseNdjsonText('1\n2\n3'), 2))).toBe('too_many_events');
    expect(
      codeOf(() => batchInput({ batch: [1, 2] }, 2)),
      'exactly the limit is fine',
    ).toBe('no error');
  });
});

describe('singleEventInput', () => {
  it('takes the body as the one event', () => {
    expect(singleEventInput({ event: 'x' }).events).toEqual([{ event: 'x' }]);
  });

  it('refuses an ndjson body with more than one event', () => {
    expect(codeOf(() => singleEventInput(parseNdjsonText('{}\n{}')))).toBe('invalid_body');
  });
});
