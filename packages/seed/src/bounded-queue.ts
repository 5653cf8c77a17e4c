/** Thrown by `put` once the queue is closed, and by `take` once it is closed and drained. */
export class QueueClosedError extends Error {
  override name = 'QueueClosedError';
  readonly code = 'queue_closed';
  constructor(message = 'the queue is closed') {
    super(message);
  }
}

interface Waiter<R> {
  resolve(value: R): void;
  reject(reason: unknown): void;
  /** Detaches the abort listener; called whenever the waiter leaves its line. */
  detach(): void;
}

interface Putter<T> extends Waiter<void> {
  item: T;
}

/**
 * An in-process FIFO with room for `capacity` items (the JavaScript cousin of Python's `Queue(N)`).
 *
 * - `put` waits while the queue is full, `take` waits while it is empty; waiters are served in
 *   arrival order. No timers or polling: each waiting promise is settled by the counterpart operation.
 * - A waiting `put` or `take` given an AbortSignal rejects with `signal.reason` when it aborts, and
 *   leaves the queue as if it had never been called: an aborted put never inserts its item.
 * - `close()`: later `put`s reject with {@link QueueClosedError}, and so do puts still waiting (their
 *   items are not inserted). `take` keeps returning what is left, then rejects with
 *   `QueueClosedError` (no sentinel value, so any `T`, `undefined` included, can be queued).
 * - A waiter woken by another call settles one microtask after that call returns, so the caller's
 *   own continuation runs first: "made 3" is logged before "ate 3".
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  private readonly items: T[] = [];
  private readonly putters: Putter<T>[] = [];
  private readonly takers: Waiter<T>[] = [];
  private isClosed = false;

  /** @param capacity the most items held at once; an integer >= 1. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`BoundedQueue capacity must be an integer >= 1, got ${String(capacity)}`);
    }
    this.capacity = capacity;
  }

  /** Items held now (never more than `capacity`; waiting puts are not counted). */
  get size(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Resolves once `item` is in the queue (or handed to a waiting `take`). */
  put(item: T, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.isClosed) return Promise.reject(new QueueClosedError('cannot put: the queue is closed'));
    const taker = this.takers.shift();
    if (taker) {
      // A taker waits only while the queue is empty, so handing over directly keeps FIFO order.
      wake(taker, item);
      return Promise.resolve();
    }
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.enqueue(this.putters, { item, resolve, reject, detach: noop }, signal));
  }

  /** Resolves with the oldest item, waiting for one if the queue is empty. */
  take(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      // A putter waits only while the queue is full: the slot just freed is its turn.
      const putter = this.putters.shift();
      if (putter) {
        this.items.push(putter.item);
        wake(putter, undefined);
      }
      return Promise.resolve(item);
    }
    if (this.isClosed) return Promise.reject(new QueueClosedError('cannot take: the queue is closed and empty'));
    return new Promise((resolve, reject) => this.enqueue(this.takers, { resolve, reject, detach: noop }, signal));
  }

  /** Refuses further puts and rejects every waiting put and take; items already in stay takeable. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    // Takers can only be waiting when the queue is empty, so none of them will ever get an item.
    for (const w of this.putters.splice(0)) fail(w, new QueueClosedError('put abandoned: the queue was closed'));
    for (const w of this.takers.splice(0)) fail(w, new QueueClosedError('take abandoned: the queue was closed'));
  }

  private enqueue<W extends Waiter<never>>(line: W[], waiter: W, signal?: AbortSignal): void {
    if (signal) {
      const onAbort = () => {
        const at = line.indexOf(waiter);
        if (at === -1) return; // already served: the abort came too late to matter
        line.splice(at, 1);
        waiter.reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.detach = () => signal.removeEventListener('abort', onAbort);
    }
    line.push(waiter);
  }
}

/** The waiter has already left its line; settle it after the waking caller's own continuation. */
function wake<R>(waiter: Waiter<R>, value: R): void {
  waiter.detach();
  queueMicrotask(() => waiter.resolve(value));
}

function noop(): void {}

function fail(waiter: Waiter<unknown>, error: Error): void {
  waiter.detach();
  waiter.reject(error);
}
