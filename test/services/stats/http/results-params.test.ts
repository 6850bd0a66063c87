import { describe, expect, it } from 'vitest';
import {
  parseResultsParams,
  parseTimeParam,
  resolveControl,
} from '../../../../services/stats/src/http/results-params.ts';

const path = { experiment: 'checkout' };

describe('parseResultsParams', () => {
  it('reads a minimal request with the defaults', () => {
    expect(parseResultsParams(path, { metric: 'purchase' })).toEqual({
      ok: true,
      value: {
        experiment: 'checkout',
        metric: 'purchase',
        control: undefined,
        confidence: 0.95,
        from: undefined,
        to: undefined,
      },
    });
  });

  it('reads every optional parameter, from strings as a query string gives them', () => {
    const parsed = parseResultsParams(path, {
      metric: 'add_to_cart',
      control: 'baseline',
      confidence: '0.9',
      from: '1767225600000',
      to: '2026-01-02T00:00:00Z',
    });
    expect(parsed).toEqual({
      ok: true,
      value: {
        experiment: 'checkout',
        metric: 'add_to_cart',
        control: 'baseline',
        confidence: 0.9,
        from: Date.UTC(2026, 0, 1),
        to: Date.UTC(2026, 0, 2),
      },
    });
  });

  it.each([
    ['a missing metric', path, {}, 'metric'],
    ['a metric that is not an event name', path, { metric: 'Purchase!' }, 'metric'],
    ['a system event as metric', path, { metric: '$exposure' }, 'metric'],
    ['confidence 1', path, { metric: 'm', confidence: '1' }, 'confidence'],
    ['confidence 0', path, { metric: 'm', confidence: 0 }, 'confidence'],
    ['a non-numeric confidence', path, { metric: 'm', confidence: 'high' }, 'confidence'],
    ['an empty control', path, { metric: 'm', control: '' }, 'control'],
    ['a malformed from', path, { metric: 'm', from: 'yesterday' }, 'from'],
    ['an impossible date in to', path, { metric: 'm', to: '2026-02-30' }, 'to'],
    ['to not after from', path, { metric: 'm', from: '2026-01-02', to: '2026-01-01' }, 'to'],
    ['an empty experiment', { experiment: '' }, { metric: 'm' }, 'experiment'],
    [
      'an experiment name over 256 characters',
      { experiment: 'e'.repeat(257) },
      { metric: 'm' },
      'experiment',
    ],
  ])('refuses %s, naming the parameter', (_name, p, q, param) => {
    const parsed = parseResultsParams(p, q);
    expect(parsed.ok, 'refused').toBe(false);
    if (!parsed.ok) {
      expect(parsed.param, 'the bad parameter').toBe(param);
      expect(parsed.message, 'the message names it').toContain(`"${param}"`);
    }
  });
});

describe('parseTimeParam', () => {
  it.each([
    ['unix ms', '1767225600000', Date.UTC(2026, 0, 1)],
    ['a date (UTC midnight)', '2026-01-31', Date.UTC(2026, 0, 31)],
    ['a date-time without offset (UTC)', '2026-01-31T10:00', Date.UTC(2026, 0, 31, 10)],
    ['a date-time with offset', '2026-01-31T10:00:00+02:00', Date.UTC(2026, 0, 31, 8)],
    ['a compact offset', '2026-01-31T10:00:00-0130', Date.UTC(2026, 0, 31, 11, 30)],
    ['fractional seconds (ms kept)', '2026-01-31T10:00:00.1239Z', Date.UTC(2026, 0, 31, 10, 0, 0, 123)],
    ['a number (already coerced)', 1_000, 1_000],
  ])('reads %s', (_name, raw, expected) => {
    expect(parseTimeParam(raw)).toBe(expected);
  });

  it.each(['2026-02-29', '2026-13-01', '2026-01-31T24:00', '2026-01-31T10:60', 'now', '-5', '2400-01-01'])(
    'refuses %s',
    (raw) => {
      expect(parseTimeParam(raw), raw).toBeNull();
    },
  );
});

describe('resolveControl', () => {
  it('takes the variation named control by default', () => {
    expect(resolveControl(['a', 'control'], undefined)).toEqual({
      ok: true,
      control: 'control',
      absent: false,
    });
  });

  it('takes the requested variation when it exists', () => {
    expect(resolveControl(['a', 'control'], 'a')).toEqual({ ok: true, control: 'a', absent: false });
  });

  it("takes the experiment's configured control when nothing is requested, before any of its units is stored", () => {
    expect(resolveControl(['b', 'baseline'], undefined, 'baseline')).toEqual({
      ok: true,
      control: 'baseline',
      absent: false,
    });
    expect(resolveControl(['b'], undefined, 'baseline')).toEqual({
      ok: true,
      control: 'baseline',
      absent: true,
    });
    expect(resolveControl(['b'], 'baseline', 'baseline')).toEqual({
      ok: true,
      control: 'baseline',
      absent: true,
    });
  });

  it('refuses a requested control that is neither stored nor the configured one', () => {
    const outcome = resolveControl(['b', 'baseline'], 'c', 'baseline');
    expect(outcome).toEqual({
      ok: false,
      message: 'parameter "control": no variation named "c"; the variations are "b", "baseline"',
    });
  });

  it('asks for control, listing the variations, when none is named control', () => {
    const outcome = resolveControl(['a', 'b'], undefined);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok)
      expect(outcome.message).toBe(
        'parameter "control" is required: no variation is named "control"; pass ?control=<one of "a", "b">',
      );
  });

  it('refuses a requested control that is not a variation', () => {
    const outcome = resolveControl(['a', 'control'], 'c');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.message).toContain('no variation named "c"');
  });
});
