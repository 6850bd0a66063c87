/**
 * Coalesces the records of concurrent HTTP requests into few produce requests.
 *
 * Why: kafkajs has no linger.ms / batch.size (every send() is one produce request) and its idempotent
 * producer keeps one request in flight, so a gateway that sent once per HTTP request would be bound
 * by request round trips. Here each request *submits* its records and gets a promise; submissions
 * queue up, and whenever a lane (one producer) is free the queue head is sent as one batch: as many
 * whole submissions as fit in `maxEvents` and `maxBytes`. While a lane's send is in flight the next
 * batch accumulates, which is what makes the pipeline self-tuning: the busier the gateway, the bigger
 * the batches.
 *
 * Guarantees:
 * - a submission resolves only after the send that carried it succeeded (acknowledged by Kafka);
 * - a failed send rejects every submission in it; nothing is retried here (the client retries with
 *   the same message_ids, and de-duplication is the processor's job);
 * - every submission settles within `timeoutMs` of being submitted (queueing included), rejected
 *   with reason 'timeout' if Kafka did not acknowledge it by then; its records may still be written
 *   later, which a 503 allows (at-least-once);
 * - a submission is never split across sends (one request's records succeed or fail together); one
 *   larger than `maxEvents`/`maxBytes` travels alone.
 *
 * The I/O (the send function) and the clock are injected, so the logic is tested with fakes.
 */

/** Why a submission was not acknowledged. */
export type ProduceFailureReason = 'timeout' | 'send_failed' | 'overloaded' | 'closed';

/** The rejection of a submission; `cause` holds the send's error for 'send_failed'. */
export class ProduceFailure extends Error {
  readonly reason: ProduceFailureReason;

  constructor(reason: ProduceFailureReason, message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'ProduceFailure';
    this.reason = reason;
  }
}

/** Sends one coalesced batch on a lane; resolves when the records are acknowledged. */
export type SendBatch<R> = (records: R[], lane: number) => Promise<void>;

/** Timer seam: real timers in production, a manual clock in tests. */
export interface CoalescerClock {
  now(): number;
  /** Runs `fn` after `ms` (ms = 0: after the current I/O phase); returns a cancel function. */
  schedule(fn: () => void, ms: number): () => void;
}

/** Node's timers; a 0 ms wait uses setImmediate so requests read in the same I/O phase coalesce. */
export const realClock: CoalescerClock = {
  now: () => performance.now(),
  schedule(fn, ms) {
    if (ms <= 0) {
      const handle = setImmediate(fn);
      return () => clearImmediate(handle);
    }
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};

/** What a batch looked like, for metrics. */
export interface SendInfo {
  readonly lane: number;
  readonly records: number;
  readonly bytes: number;
  readonly submissions: number;
}

/** Hooks for metrics and logs; all optional. */
export interface CoalescerObserver {
  onSendStart?(info: SendInfo): void;
  /** `error` is undefined when the send succeeded; `durationMs` is the send's own duration. */
  onSendEnd?(info: SendInfo, durationMs: number, error: unknown): void;
  /** A submission left the queue in a send after `waitedMs` (its linger plus any wait for a free lane). */
  onSubmissionSent?(waitedMs: number): void;
  /** A submission was refused or timed out (queued or in flight); failed sends go to onSendEnd. */
  onReject?(reason: ProduceFailureReason, records: number): void;
}

export interface CoalescerOptions<R> {
  send: SendBatch<R>;
  /** Concurrent sends, one per producer (an idempotent kafkajs producer keeps one request in flight). */
  lanes: number;
  /** Most records per send (soft: a larger single submission is sent alone). */
  maxEvents: number;
  /** Most bytes per send (soft, as maxEvents). */
  maxBytes: number;
  /** How long the oldest queued record may wait for company while a lane is free, ms. */
  lingerMs: number;
  /** Deadline of each submission from submit() to acknowledgement, ms. */
  timeoutMs: number;
  /** Queued (not yet sent) bytes beyond which new submissions are refused at once. */
  maxQueuedBytes: number;
  clock?: CoalescerClock;
  observer?: CoalescerObserver;
}

/** Counters for gauges. */
export interface CoalescerStats {
  readonly queuedSubmissions: number;
  readonly queuedRecords: number;
  readonly queuedBytes: number;
  readonly sendsInFlight: number;
  readonly recordsInFlight: number;
}

interface Submission<R> {
  readonly records: R[];
  readonly bytes: number;
  readonly enqueuedAt: number;
  settled: boolean;
  queued: boolean;
  cancelDeadline: () => void;
  resolve: () => void;
  reject: (err: ProduceFailure) => void;
}

/** See the file comment. One instance per gateway process. */
export class BatchCoalescer<R> {
  private readonly opts: CoalescerOptions<R>;
  private readonly clock: CoalescerClock;
  private readonly queue: Submission<R>[] = [];
  /** Index of the queue head: shifting a long array on every dispatch would be O(n). */
  private head = 0;
  private queuedRecords = 0;
  private queuedBytes = 0;
  private readonly freeLanes: number[];
  private readonly inFlight = new Set<Promise<void>>();
  private recordsInFlight = 0;
  private cancelLinger: (() => void) | null = null;
  private lingerDueAt = Number.POSITIVE_INFINITY;
  private closing = false;

  constructor(opts: CoalescerOptions<R>) {
    if (opts.lanes < 1) throw new RangeError('lanes must be at least 1');
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    // Popped from the end: lane 0 is used first, so at low load one producer does the work.
    this.freeLanes = Array.from({ length: opts.lanes }, (_, i) => opts.lanes - 1 - i);
  }

  /**
   * Queues one request's records; resolves once Kafka acknowledged all of them, rejects with a
   * ProduceFailure otherwise. `bytes` is the caller's size estimate of the records.
   */
  submit(records: R[], bytes: number): Promise<void> {
    if (this.closing) {
      return this.refuse('closed', 'the gateway is shutting down', records.length);
    }
    if (records.length === 0) return Promise.resolve();
    if (this.queuedRecords > 0 && this.queuedBytes + bytes > this.opts.maxQueuedBytes) {
      return this.refuse(
        'overloaded',
        `${this.queuedBytes} bytes are already waiting for Kafka (limit ${this.opts.maxQueuedBytes})`,
        records.length,
      );
    }
    return new Promise<void>((resolve, reject) => {
      const submission: Submission<R> = {
        records,
        bytes,
        enqueuedAt: this.clock.now(),
        settled: false,
        queued: true,
        cancelDeadline: () => undefined,
        resolve,
        reject,
      };
      submission.cancelDeadline = this.clock.schedule(() => this.expire(submission), this.opts.timeoutMs);
      this.queue.push(submission);
      this.queuedRecords += records.length;
      this.queuedBytes += bytes;
      this.pump();
    });
  }

  /**
   * Stops taking submissions, sends everything queued without lingering and waits for every send in
   * flight. Submissions still settle by their deadlines, so this ends within timeoutMs plus one send.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.pump();
    while (this.inFlight.size > 0 || this.queuedRecords > 0) {
      await Promise.allSettled([...this.inFlight]);
      this.pump();
    }
  }

  stats(): CoalescerStats {
    return {
      queuedSubmissions: this.queue.length - this.head,
      queuedRecords: this.queuedRecords,
      queuedBytes: this.queuedBytes,
      sendsInFlight: this.inFlight.size,
      recordsInFlight: this.recordsInFlight,
    };
  }

  private refuse(reason: ProduceFailureReason, message: string, records: number): Promise<void> {
    this.opts.observer?.onReject?.(reason, records);
    return Promise.reject(new ProduceFailure(reason, message));
  }

  /** Starts sends while lanes are free and the queue head is due (full, lingered enough, or closing). */
  private pump(): void {
    this.skipSettledHead();
    while (this.freeLanes.length > 0 && this.head < this.queue.length) {
      const due = this.closing || this.isFull() || this.oldestWaitMs() >= this.opts.lingerMs;
      if (!due) {
        this.armLinger();
        return;
      }
      const lane = this.freeLanes.pop() as number;
      this.dispatch(lane);
      this.skipSettledHead();
    }
    if (this.head >= this.queue.length) this.disarmLinger();
  }

  private isFull(): boolean {
    return this.queuedRecords >= this.opts.maxEvents || this.queuedBytes >= this.opts.maxBytes;
  }

  private oldestWaitMs(): number {
    const oldest = this.queue[this.head];
    return oldest === undefined ? 0 : this.clock.now() - oldest.enqueuedAt;
  }

  private armLinger(): void {
    const oldest = this.queue[this.head];
    if (oldest === undefined) return;
    const dueAt = oldest.enqueuedAt + this.opts.lingerMs;
    if (this.cancelLinger !== null && this.lingerDueAt <= dueAt) return;
    this.disarmLinger();
    this.lingerDueAt = dueAt;
    this.cancelLinger = this.clock.schedule(
      () => {
        this.cancelLinger = null;
        this.lingerDueAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, dueAt - this.clock.now()),
    );
  }

  private disarmLinger(): void {
    if (this.cancelLinger === null) return;
    this.cancelLinger();
    this.cancelLinger = null;
    this.lingerDueAt = Number.POSITIVE_INFINITY;
  }

  /** Drops submissions that expired while queued from the head, compacting the array now and then. */
  private skipSettledHead(): void {
    while (this.head < this.queue.length && (this.queue[this.head] as Submission<R>).settled) this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Takes whole submissions from the head within the limits (at least one) and sends them on `lane`. */
  private dispatch(lane: number): void {
    const batch: Submission<R>[] = [];
    let records = 0;
    let bytes = 0;
    while (this.head < this.queue.length) {
      const next = this.queue[this.head] as Submission<R>;
      if (next.settled) {
        this.head++;
        continue;
      }
      const fits =
        records + next.records.length <= this.opts.maxEvents && bytes + next.bytes <= this.opts.maxBytes;
      if (batch.length > 0 && !fits) break;
      this.head++;
      next.queued = false;
      this.queuedRecords -= next.records.length;
      this.queuedBytes -= next.bytes;
      batch.push(next);
      records += next.records.length;
      bytes += next.bytes;
    }
    if (batch.length === 0) {
      this.freeLanes.push(lane);
      return;
    }
    const flat: R[] = batch.length === 1 ? (batch[0] as Submission<R>).records : [];
    if (batch.length > 1) for (const s of batch) for (const r of s.records) flat.push(r);

    const info: SendInfo = { lane, records, bytes, submissions: batch.length };
    const startedAt = this.clock.now();
    const observer = this.opts.observer;
    observer?.onSendStart?.(info);
    if (observer?.onSubmissionSent)
      for (const s of batch) observer.onSubmissionSent(startedAt - s.enqueuedAt);
    this.recordsInFlight += records;
    let sending: Promise<void>;
    try {
      sending = this.opts.send(flat, lane);
    } catch (err) {
      // A send function that throws synchronously is treated like one that rejects.
      sending = Promise.reject(err);
    }
    const done = sending.then(
      () => this.finish(batch, info, startedAt, undefined),
      (err: unknown) => this.finish(batch, info, startedAt, err ?? new Error('send failed')),
    );
    this.inFlight.add(done);
    void done.finally(() => {
      this.inFlight.delete(done);
      this.freeLanes.push(lane);
      this.pump();
    });
  }

  private finish(batch: Submission<R>[], info: SendInfo, startedAt: number, error: unknown): void {
    this.recordsInFlight -= info.records;
    this.opts.observer?.onSendEnd?.(info, this.clock.now() - startedAt, error);
    const failure =
      error === undefined
        ? undefined
        : new ProduceFailure('send_failed', `Kafka did not accept the records: ${messageOf(error)}`, {
            cause: error,
          });
    for (const s of batch) {
      if (s.settled) continue;
      s.settled = true;
      s.cancelDeadline();
      if (failure === undefined) s.resolve();
      else s.reject(failure);
    }
  }

  private expire(s: Submission<R>): void {
    if (s.settled) return;
    s.settled = true;
    if (s.queued) {
      s.queued = false;
      this.queuedRecords -= s.records.length;
      this.queuedBytes -= s.bytes;
    }
    this.opts.observer?.onReject?.('timeout', s.records.length);
    s.reject(
      new ProduceFailure('timeout', `Kafka did not acknowledge the records within ${this.opts.timeoutMs} ms`),
    );
    // The head may now be settled; let the queue advance (and the linger re-arm for the next one).
    this.pump();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
