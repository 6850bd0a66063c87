import { describe, expect, it } from 'vitest';
import {
  deserializeIdentityState,
  serializeIdentityState,
} from '../../../../../services/processor/src/domain/identity/identity-state-codec.ts';

describe('identity state codec', () => {
  it('round-trips a state, including a "__proto__" message_id', () => {
    const seen = JSON.parse('{"__proto__": 5, "m": 7}') as Record<string, number>;
    const state = { aliasTo: 'u', seen };
    const decoded = deserializeIdentityState(serializeIdentityState(state));
    expect(decoded).toEqual({ ok: true, value: state });
    expect(decoded.ok && Object.hasOwn(decoded.value.seen, '__proto__')).toBe(true);
  });

  it('writes a version envelope', () => {
    expect(serializeIdentityState({ aliasTo: null, seen: {} })).toBe(
      '{"v":1,"state":{"aliasTo":null,"seen":{}}}',
    );
  });

  it.each([
    [
      '{"v":2,"state":{"aliasTo":null,"seen":{}}}',
      'identity-state: unsupported version 2; this build reads version 1 only',
    ],
    [
      '{"state":{"aliasTo":null,"seen":{}}}',
      'identity-state: no version field; expected {"v":1,"state":...}',
    ],
    ['{"v":1,"state":{"aliasTo":3,"seen":{}}}', 'identity-state: version 1 state has an unexpected shape'],
    [
      '{"v":1,"state":{"aliasTo":null,"seen":{"m":"x"}}}',
      'identity-state: version 1 state has an unexpected shape',
    ],
  ])('rejects %s', (json, error) => {
    expect(deserializeIdentityState(json)).toEqual({ ok: false, error });
  });

  it('rejects text that is not JSON, saying so', () => {
    const decoded = deserializeIdentityState('{nope');
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.error).toMatch(/^identity-state: not JSON/);
  });
});
