import { describe, expect, it } from 'vitest';
import {
  contentOf,
  EMPTY_CONTENT,
  isEmptyContent,
  unionContent,
} from '../../../../../services/processor/src/domain/attribution/unit-state.ts';
import { exposure, track } from '../../../../helpers/processor/builders.ts';

describe('unionContent', () => {
  it('adds tracks by event_id, keeping the first copy and counting replays', () => {
    const base = { exposures: [], tracks: [track('t1', 100, { value: 1 })] };
    const more = { exposures: [], tracks: [track('t1', 100, { value: 1 }), track('t2', 200)] };
    const { content, replayedTracks } = unionContent(base, more);
    expect(content.tracks.map((t) => t.event_id)).toEqual(['t1', 't2']);
    expect(replayedTracks).toBe(1);
  });

  it('combines exposures per experiment', () => {
    const { content } = unionContent(
      contentOf(exposure('x1', 200, 'A', { dimensions: { country: 'FR' } })),
      contentOf(exposure('x2', 100, 'B', { dimensions: { country: 'DE' } })),
    );
    expect(content.exposures).toEqual([
      {
        experiment: 'e',
        first_exposure_at: 100,
        variation: 'B',
        multiple_exposure: true,
        decision_ids: [],
        dimensions: { country: 'DE' },
      },
    ]);
  });

  it('is a no-op for content already contained', () => {
    const base = unionContent(contentOf(exposure('x1', 100)), contentOf(track('t1', 150))).content;
    const again = unionContent(base, base).content;
    expect(again).toEqual(base);
  });
});

describe('isEmptyContent', () => {
  it('is true only without exposures and tracks', () => {
    expect(isEmptyContent(EMPTY_CONTENT)).toBe(true);
    expect(isEmptyContent(contentOf(track('t1', 1)))).toBe(false);
    expect(isEmptyContent(contentOf(exposure('x1', 1)))).toBe(false);
  });
});
