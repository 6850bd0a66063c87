import { describe, expect, it } from 'vitest';
import { ExposureDedup } from '../../sdk/src/exposure-dedup.ts';

const exposure = { user_id: 'u-1', experiment: 'checkout', variation: 'control' };

describe('ExposureDedup', () => {
  it('passes the first exposure of unit × experiment × variation and skips repeats', () => {
    const dedup = new ExposureDedup(100);
    expect(dedup.firstTime(exposure)).toBe(true);
    expect(dedup.firstTime({ ...exposure }), 'same unit, experiment and variation').toBe(false);
  });

  it('treats another unit, experiment, variation or decision as new', () => {
    const dedup = new ExposureDedup(100);
    dedup.firstTime(exposure);
    expect(dedup.firstTime({ ...exposure, user_id: 'u-2' }), 'other unit').toBe(true);
    expect(dedup.firstTime({ ...exposure, experiment: 'search' }), 'other experiment').toBe(true);
    expect(dedup.firstTime({ ...exposure, variation: 'treatment' }), 'other variation').toBe(true);
    expect(
      dedup.firstTime({ ...exposure, decision_id: 'd-2' }),
      'a new decision: decision attribution needs its exposure',
    ).toBe(true);
    expect(
      dedup.firstTime({ anonymous_id: 'u-1', experiment: 'checkout', variation: 'control' }),
      'an anonymous id is not the user id',
    ).toBe(true);
  });

  it('forgets the oldest keys beyond its bound', () => {
    const dedup = new ExposureDedup(2);
    for (const user_id of ['a', 'b', 'c']) dedup.firstTime({ ...exposure, user_id });
    expect(dedup.firstTime({ ...exposure, user_id: 'a' }), 'a was forgotten').toBe(true);
    expect(dedup.firstTime({ ...exposure, user_id: 'c' }), 'c is remembered').toBe(false);
  });
});
