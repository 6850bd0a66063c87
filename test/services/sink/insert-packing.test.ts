import { describe, expect, it } from 'vitest';
import { packRows, packWholeRuns } from '../../../services/sink/src/sink-inserts.ts';
import type { InsertRun } from '../../../services/sink/src/sink-inserts.ts';

const run = (partition: number, first: number, n: number): InsertRun<{ src_offset: number }> => ({
  topic: 't',
  partition,
  firstOffset: first,
  lastOffset: first + n - 1,
  rows: Array.from({ length: n }, (_v, i) => ({ src_offset: first + i })),
});

const shape = (inserts: InsertRun<unknown>[][]) =>
  inserts.map((runs) => runs.map((r) => `p${r.partition}:${r.firstOffset}-${r.lastOffset}/${r.rows.length}`));

describe('packRows', () => {
  it("puts every partition's run in one insert when they fit", () => {
    expect(shape(packRows([run(0, 10, 3), run(3, 0, 2)], 100))).toEqual([['p0:10-12/3', 'p3:0-1/2']]);
  });

  it('splits a run at the insert size, each piece with its own offsets, in order (a prefix is stored first)', () => {
    expect(shape(packRows([run(0, 10, 3), run(1, 100, 6), run(2, 7, 1)], 4))).toEqual([
      ['p0:10-12/3', 'p1:100-100/1'],
      ['p1:101-104/4'],
      ['p1:105-105/1', 'p2:7-7/1'],
    ]);
  });

  it('loses and repeats no row', () => {
    const runs = [run(0, 0, 17), run(1, 5, 9), run(2, 3, 30)];
    const packed = packRows(runs, 7);
    expect(packed.every((insert) => insert.reduce((n, r) => n + r.rows.length, 0) <= 7)).toBe(true);
    expect(packed.flat().flatMap((r) => r.rows.map((row) => `${r.partition}:${row.src_offset}`))).toEqual(
      runs.flatMap((r) => r.rows.map((row) => `${r.partition}:${row.src_offset}`)),
    );
  });
});

describe('packRows, the insert size', () => {
  it('refuses a size that is not a positive integer (0 would never finish a run)', () => {
    expect(() => packRows([run(0, 0, 2)], 0)).toThrow(RangeError);
    expect(() => packRows([run(0, 0, 2)], 1.5)).toThrow(RangeError);
  });
});

describe('packWholeRuns', () => {
  it('never splits a run (a partition’s per-variation changes go in whole): a large one goes alone', () => {
    expect(shape(packWholeRuns([run(0, 0, 2), run(1, 0, 2), run(2, 0, 9), run(3, 0, 1)], 4))).toEqual([
      ['p0:0-1/2', 'p1:0-1/2'],
      ['p2:0-8/9'],
      ['p3:0-0/1'],
    ]);
  });
});
