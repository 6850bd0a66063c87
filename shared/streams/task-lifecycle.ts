/**
 * A stream task's life cycle, as a checked state machine:
 *
 *   created ──► restoring ──► running ──► suspended ──► restoring ...
 *                   │  ▲          │            │
 *                   └──┘          └────────────┴──► closed (from any state but closed)
 *
 * - `restoring`: the task is being prepared for an assignment: its producer fences any other
 *   holder of its transactional id, its committed offset is read, and its store is kept (provably
 *   current) or restored from its changelog. A preparation that failed and is retried re-enters it.
 * - `running`: it processes input, one transaction per chunk.
 * - `suspended`: a new assignment arrived (every task waits for its preparation again), or its
 *   last transaction was fenced or could not be settled (`rebuild`: it must be prepared again, its
 *   store restored, before it processes anything).
 * - `closed`: the task left this instance (or the process stops); nothing may use it again.
 *
 * Every other transition is a bug in the runtime and throws, instead of letting a task process
 * input it was never prepared for.
 */
export type TaskState = 'created' | 'restoring' | 'running' | 'suspended' | 'closed';

/** Why a task is suspended. */
export type SuspendReason = 'reassigned' | 'rebuild';

const ALLOWED: Readonly<Record<TaskState, readonly TaskState[]>> = {
  created: ['restoring', 'closed'],
  restoring: ['restoring', 'running', 'suspended', 'closed'],
  running: ['suspended', 'closed'],
  suspended: ['suspended', 'restoring', 'closed'],
  closed: [],
};

/** A transition the life cycle does not allow. */
export class IllegalTaskTransition extends Error {
  constructor(task: string, from: TaskState, to: TaskState) {
    super(`task ${task}: illegal transition ${from} → ${to}`);
    this.name = 'IllegalTaskTransition';
  }
}

/** The life cycle of one task (named for errors). */
export class TaskLifecycle {
  private current: TaskState = 'created';
  private reason: SuspendReason | null = null;

  constructor(private readonly task: string) {}

  get state(): TaskState {
    return this.current;
  }

  /** True while suspended because its last transaction was fenced or left unsettled. */
  get needsRebuild(): boolean {
    return this.current === 'suspended' && this.reason === 'rebuild';
  }

  /** created | suspended | restoring (a retried preparation) → restoring. */
  startRestoring(): void {
    this.move('restoring');
    this.reason = null;
  }

  /** restoring → running. */
  markRunning(): void {
    this.move('running');
  }

  /**
   * running | restoring | suspended → suspended, for the latest reason: after a reassignment the
   * assignment's preparation takes over a pending rebuild (the task's store is marked as not
   * restored, so that preparation restores it).
   */
  suspend(reason: SuspendReason): void {
    if (this.current === 'created') return; // never prepared: nothing to suspend
    this.move('suspended');
    this.reason = reason;
  }

  /** Any state → closed (closing twice is a no-op). */
  close(): void {
    if (this.current === 'closed') return;
    this.move('closed');
  }

  private move(to: TaskState): void {
    if (!ALLOWED[this.current].includes(to)) throw new IllegalTaskTransition(this.task, this.current, to);
    this.current = to;
  }
}
