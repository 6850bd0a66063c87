import { describe, expect, it } from 'vitest';
import { OffsetWatermarks, recordsAfter, seekPlan } from '../../../services/sink/src/offset-watermarks.ts';

const records = [10, 11, 12, 13].map((offset) => ({ offset }));

describe('recordsAfter', () => {
  it('keeps only records above the stored watermark (a replay after a crash before the commit)', () => {
    expect(recordsAfter(records, 11)).toEqual({ fresh: [{ offset: 12 }, { offset: 13 }], skipped: 2 });
  });

  it('keeps everything when nothing is stored (-1)', () => {
    expect(recordsAfter(records, -1)).toEqual({ fresh: records, skipped: 0 });
  });

  it('skips everything when the whole batch is already stored', () => {
    expect(recordsAfter(records, 13)).toEqual({ fresh: [], skipped: 4 });
  });

  it('tolerates offset gaps (transaction markers occupy offsets)', () => {
    const gappy = [{ offset: 4 }, { offset: 6 }, { offset: 9 }];
    expect(recordsAfter(gappy, 5).fresh, 'a watermark between two records').toEqual([
      { offset: 6 },
      { offset: 9 },
    ]);
  });
});

describe('seekPlan', () => {
  it('resumes right after the last stored record', () => {
    expect(seekPlan(41, 0)).toEqual({ offset: 42, lostToRetention: 0 });
  });

  it('starts at the log start when nothing is stored, whatever Kafka committed', () => {
    expect(seekPlan(-1, 17)).toEqual({ offset: 17, lostToRetention: 0 });
  });

  it('reports records that expired before they were stored', () => {
    expect(seekPlan(41, 50)).toEqual({ offset: 50, lostToRetention: 8 });
  });

  it('is exact when the log starts right after the stored record', () => {
    expect(seekPlan(41, 42)).toEqual({ offset: 42, lostToRetention: 0 });
  });
});

describe('OffsetWatermarks', () => {
  it('keeps one watermark per table and partition, and forgets them all on clear', () => {
    const marks = new OffsetWatermarks();
    marks.set('exposures', 0, 5);
    marks.set('attributed', 0, 9);
    expect(marks.get('exposures', 0), 'exposures p0').toBe(5);
    expect(marks.get('attributed', 0), 'attributed p0 is separate').toBe(9);
    expect(marks.get('attributed', 1), 'unknown partition').toBeUndefined();
    expect(marks.entries()).toEqual([
      { table: 'exposures', partition: 0, offset: 5 },
      { table: 'attributed', partition: 0, offset: 9 },
    ]);
    marks.clear();
    expect(marks.get('exposures', 0), 'cleared on rebalance').toBeUndefined();
  });
});
