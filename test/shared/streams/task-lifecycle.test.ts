import { describe, expect, it } from 'vitest';
import {
  IllegalTaskTransition,
  TaskLifecycle,
  type TaskState,
} from '../../../shared/streams/task-lifecycle.ts';

const TASK = 'app-count-3';
const STATES: readonly TaskState[] = ['created', 'restoring', 'running', 'suspended', 'closed'];

/** A lifecycle brought to `state` through allowed transitions only. */
function inState(state: TaskState): TaskLifecycle {
  const lifecycle = new TaskLifecycle(TASK);
  if (state === 'closed') lifecycle.close();
  if (state === 'restoring' || state === 'running' || state === 'suspended') lifecycle.startRestoring();
  if (state === 'running') lifecycle.markRunning();
  if (state === 'suspended') lifecycle.suspend('reassigned');
  return lifecycle;
}

/** The method that moves a lifecycle to each state (nothing moves one back to `created`). */
const MOVE_TO: Readonly<Record<Exclude<TaskState, 'created'>, (l: TaskLifecycle) => void>> = {
  restoring: (l) => l.startRestoring(),
  running: (l) => l.markRunning(),
  suspended: (l) => l.suspend('reassigned'),
  closed: (l) => l.close(),
};

type Expected = 'moves' | 'no-op' | 'throws' | 'unreachable';

/** from → to, for all 25 pairs (rows: from; columns: to, in STATES order). */
const TABLE: Readonly<Record<TaskState, readonly Expected[]>> = {
  //         created        restoring  running   suspended  closed
  created: ['unreachable', 'moves', 'throws', 'no-op', 'moves'],
  restoring: ['unreachable', 'moves', 'moves', 'moves', 'moves'],
  running: ['unreachable', 'throws', 'throws', 'moves', 'moves'],
  suspended: ['unreachable', 'moves', 'throws', 'moves', 'moves'],
  closed: ['unreachable', 'throws', 'throws', 'throws', 'no-op'],
};

const PAIRS = STATES.flatMap((from) =>
  STATES.map((to, column) => ({ from, to, expected: TABLE[from][column]! })),
);

/** What `act` threw (undefined when it returned). */
function thrownBy(act: () => void): unknown {
  try {
    act();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('TaskLifecycle transitions', () => {
  it('covers all 25 pairs', () => {
    expect(PAIRS).toHaveLength(25);
  });

  it.each(PAIRS)('$from → $to: $expected', ({ from, to, expected }) => {
    const lifecycle = inState(from);
    expect(lifecycle.state, 'precondition').toBe(from);

    if (to === 'created') {
      // No method leads back to created: from any state, every method either throws, leaves
      // the state as it was (suspend before any preparation), or moves it elsewhere.
      expect(expected).toBe('unreachable');
      for (const [target, move] of Object.entries(MOVE_TO)) {
        const l = inState(from);
        const threw = thrownBy(() => move(l)) !== undefined;
        const stayed = from === 'created' && (threw || target === 'suspended');
        expect(l.state === 'created', `${from}, then the move to ${target}`).toBe(stayed);
      }
      return;
    }

    const error = thrownBy(() => MOVE_TO[to](lifecycle));
    if (expected === 'throws') {
      expect(error).toBeInstanceOf(IllegalTaskTransition);
      expect((error as Error).name).toBe('IllegalTaskTransition');
      expect((error as Error).message, 'names the task and both states').toBe(
        `task ${TASK}: illegal transition ${from} → ${to}`,
      );
      expect(lifecycle.state, 'an illegal transition changes nothing').toBe(from);
    } else {
      expect(error).toBeUndefined();
      expect(lifecycle.state).toBe(expected === 'no-op' ? from : to);
    }
  });
});

describe('TaskLifecycle', () => {
  it('starts created, not needing a rebuild', () => {
    const lifecycle = new TaskLifecycle(TASK);
    expect(lifecycle.state).toBe('created');
    expect(lifecycle.needsRebuild).toBe(false);
  });

  it('suspend before any preparation is a no-op, whatever the reason', () => {
    const lifecycle = new TaskLifecycle(TASK);
    lifecycle.suspend('rebuild');
    expect(lifecycle.state).toBe('created');
    expect(lifecycle.needsRebuild, 'a task never prepared has nothing to rebuild').toBe(false);
    lifecycle.startRestoring();
    expect(lifecycle.state, 'still free to be prepared').toBe('restoring');
  });

  it('needs a rebuild only while suspended for that reason', () => {
    const lifecycle = inState('running');
    lifecycle.suspend('rebuild');
    expect(lifecycle.state).toBe('suspended');
    expect(lifecycle.needsRebuild).toBe(true);
  });

  it('a later reassignment takes over a pending rebuild, and a later rebuild over a reassignment', () => {
    const lifecycle = inState('running');
    lifecycle.suspend('rebuild');
    lifecycle.suspend('reassigned');
    expect(lifecycle.state).toBe('suspended');
    expect(lifecycle.needsRebuild, 'the latest reason wins').toBe(false);
    lifecycle.suspend('rebuild');
    expect(lifecycle.needsRebuild).toBe(true);
  });

  it('a failed preparation (restoring) can be suspended for a rebuild', () => {
    const lifecycle = inState('restoring');
    lifecycle.suspend('rebuild');
    expect(lifecycle.needsRebuild).toBe(true);
  });

  it('startRestoring clears a pending rebuild, and the task runs again', () => {
    const lifecycle = inState('running');
    lifecycle.suspend('rebuild');
    lifecycle.startRestoring();
    expect(lifecycle.state).toBe('restoring');
    expect(lifecycle.needsRebuild).toBe(false);
    lifecycle.markRunning();
    expect(lifecycle.state).toBe('running');
    expect(lifecycle.needsRebuild).toBe(false);
    lifecycle.suspend('reassigned');
    expect(lifecycle.needsRebuild, 'the old reason does not come back').toBe(false);
  });

  it('closing a task that needed a rebuild leaves nothing to rebuild', () => {
    const lifecycle = inState('running');
    lifecycle.suspend('rebuild');
    lifecycle.close();
    expect(lifecycle.state).toBe('closed');
    expect(lifecycle.needsRebuild).toBe(false);
  });

  it.each(STATES)('close from %s is allowed, and closing again is a no-op', (from) => {
    const lifecycle = inState(from);
    lifecycle.close();
    lifecycle.close();
    expect(lifecycle.state).toBe('closed');
    expect(() => lifecycle.startRestoring(), 'nothing may use a closed task').toThrow(IllegalTaskTransition);
  });

  it('a retried preparation re-enters restoring', () => {
    const lifecycle = inState('restoring');
    lifecycle.startRestoring();
    expect(lifecycle.state).toBe('restoring');
  });

  it('runs through a whole life: prepared, running, reassigned, prepared again, closed', () => {
    const lifecycle = new TaskLifecycle(TASK);
    const seen: TaskState[] = [lifecycle.state];
    const steps = [
      () => lifecycle.startRestoring(),
      () => lifecycle.markRunning(),
      () => lifecycle.suspend('reassigned'),
      () => lifecycle.startRestoring(),
      () => lifecycle.markRunning(),
      () => lifecycle.suspend('rebuild'),
      () => lifecycle.startRestoring(),
      () => lifecycle.markRunning(),
      () => lifecycle.close(),
    ];
    for (const step of steps) {
      step();
      seen.push(lifecycle.state);
    }
    expect(seen).toEqual([
      'created',
      'restoring',
      'running',
      'suspended',
      'restoring',
      'running',
      'suspended',
      'restoring',
      'running',
      'closed',
    ]);
  });
});
