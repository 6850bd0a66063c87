import { describe, expect, it } from 'vitest';
import type { CommittedChange } from '../../../services/sink/src/index.ts';
import { FreshnessTracker } from '../../../services/stats/src/freshness/freshness-tracker.ts';

/** A loader over a mutable truth (experiment → newest), counting its reads; `gate` holds a read open. */
function fakeLoader(truth: Map<string, number>) {
  const calls: (string | undefined)[] = [];
  let gate: Promise<void> | undefined;
  return {
    calls,
    hold(): () => void {
      let release = () => {};
      gate = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
    load: async (_project: string, experiment?: string) => {
      calls.push(experiment);
      const snapshot = new Map([...truth].filter(([e]) => experiment === undefined || e === experiment));
      if (gate !== undefined) await gate;
      return snapshot;
    },
  };
}

const change = (
  experiment: string,
  newestAsserted: number | null,
  newestRetracted: number | null = null,
): CommittedChange => ({ table: 'attributed', project: 'shop', experiment, newestAsserted, newestRetracted });

describe('FreshnessTracker (maintained by the sink in this process)', () => {
  it('reads once, then follows assertions without reading again', async () => {
    const loader = fakeLoader(new Map([['a', 1_000]]));
    const tracker = new FreshnessTracker({ load: loader.load, maintained: true });
    expect(await tracker.newest('shop', 'a')).toBe(1_000);
    tracker.committed([change('a', 1_500), change('a', 1_200)]);
    expect(await tracker.newest('shop', 'a')).toBe(1_500);
    expect(loader.calls, 'one read').toEqual(['a']);
  });

  it('ignores a retraction older than the newest, and recomputes after one that reaches it', async () => {
    const truth = new Map([['a', 2_000]]);
    const loader = fakeLoader(truth);
    const tracker = new FreshnessTracker({ load: loader.load, maintained: true });
    await tracker.newest('shop', 'a');
    tracker.committed([change('a', null, 1_999)]);
    expect(await tracker.newest('shop', 'a')).toBe(2_000);
    expect(loader.calls).toHaveLength(1);
    truth.set('a', 1_700); // the row at 2,000 was retracted: the newest live one is older
    tracker.committed([change('a', null, 2_000)]);
    expect(await tracker.newest('shop', 'a')).toBe(1_700);
    expect(loader.calls).toHaveLength(2);
  });

  it('loses no insert reported while a read runs', async () => {
    const loader = fakeLoader(new Map([['a', 1_000]]));
    const tracker = new FreshnessTracker({ load: loader.load, maintained: true });
    const release = loader.hold();
    const pending = tracker.newest('shop', 'a');
    tracker.committed([change('a', 3_000)]); // maybe not in the read's snapshot
    release();
    expect(await pending).toBe(3_000);
  });

  it('marks a value read while a retraction reaching it was reported for recomputation', async () => {
    const truth = new Map([['a', 1_000]]);
    const loader = fakeLoader(truth);
    const tracker = new FreshnessTracker({ load: loader.load, maintained: true });
    const release = loader.hold();
    const pending = tracker.newest('shop', 'a');
    tracker.committed([change('a', null, 1_000)]);
    release();
    await pending;
    truth.set('a', 900);
    expect(await tracker.newest('shop', 'a')).toBe(900);
  });

  it('does not remember an experiment with nothing counted (a typo or a probe is not held forever)', async () => {
    const truth = new Map<string, number>();
    const loader = fakeLoader(truth);
    const tracker = new FreshnessTracker({ load: loader.load, maintained: true });
    expect(await tracker.newest('shop', 'nope')).toBeNull();
    expect(await tracker.newest('shop', 'nope')).toBeNull();
    expect(loader.calls, 'read each time').toHaveLength(2);
    truth.set('nope', 42);
    tracker.committed([change('nope', 42)]);
    expect(await tracker.newest('shop', 'nope')).toBe(42);
    expect(await tracker.newest('shop', 'nope')).toBe(42);
    expect(loader.calls, 'remembered once something is counted').toHaveLength(3);
  });

  it("re-reads a maintained value after maintainedTtlMs: other processes' sinks insert too", async () => {
    let now = 0;
    const truth = new Map([['a', 10]]);
    const loader = fakeLoader(truth);
    const tracker = new FreshnessTracker({
      load: loader.load,
      maintained: true,
      maintainedTtlMs: 30_000,
      now: () => now,
    });
    expect(await tracker.newest('shop', 'a')).toBe(10);
    truth.set('a', 20); // inserted by another process's sink: not reported here
    now = 29_000;
    expect(await tracker.newest('shop', 'a')).toBe(10);
    now = 30_001;
    expect(await tracker.newest('shop', 'a')).toBe(20);
  });

  it('a listing reads the project once for the experiments it does not know, and reuses the others', async () => {
    const loader = fakeLoader(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    const tracker = new FreshnessTracker({ load: loader.load, maintained: true });
    await tracker.newest('shop', 'a');
    const listing = await tracker.newestOf('shop', ['a', 'b', 'c']);
    expect([...listing]).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', null],
    ]);
    expect(loader.calls, 'one per experiment, then one for the project').toEqual(['a', undefined]);
    await tracker.newestOf('shop', ['a', 'b']);
    expect(loader.calls, 'both known now').toHaveLength(2);
    await tracker.newestOf('shop', ['a', 'b', 'c']);
    expect(loader.calls, 'c, with nothing counted, is read again').toHaveLength(3);
  });
});

describe('FreshnessTracker without a sink in this process', () => {
  it('reuses a value for ttlMs, then reads again', async () => {
    let now = 0;
    const truth = new Map([['a', 10]]);
    const loader = fakeLoader(truth);
    const tracker = new FreshnessTracker({
      load: loader.load,
      maintained: false,
      ttlMs: 2_000,
      now: () => now,
    });
    expect(await tracker.newest('shop', 'a')).toBe(10);
    truth.set('a', 20);
    now = 1_999;
    expect(await tracker.newest('shop', 'a')).toBe(10);
    now = 2_001;
    expect(await tracker.newest('shop', 'a')).toBe(20);
  });
});
