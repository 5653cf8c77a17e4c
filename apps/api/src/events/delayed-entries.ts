import type { StreamEntry } from './streams';

/**
 * What a `delayed` entry of BullMQ's stream is. BullMQ logs the same entry (`delayed`,
 * `jobId`, `delay`) for a submit with a delay, for an attempt that failed and waits out its
 * backoff, and for a delayed job whose run time an operator changed (`changeDelay`: Bull
 * Board's Reschedule) or a flow's parent that waits for its own delay. Only the second is a
 * lifecycle change (`retrying`); the stream tells them apart by what came before the entry:
 * the job's `added` right before it (the submit), or its `active` (a retry).
 *
 * `unknown`: a job this relay did not see start, because it started before the relay's
 * first read (another API process relayed until then). Its start time, read from the job,
 * decides (`isRetry`).
 */
export type DelayedKind = 'submit' | 'retry' | 'unknown';

/** Entries after which a job no longer runs: it ended, went back to wait, or was removed. */
const LEFT_ACTIVE: ReadonlySet<string> = new Set(['completed', 'failed', 'delayed', 'waiting', 'removed', 'stalled']);

/** Running jobs remembered per stream, at most; past this the memory starts again from that point. */
const MAX_RUNNING = 100_000;

/** How far a worker's clock (a job's start) may be from Redis's (the entries' ids). */
const CLOCK_SLACK_MS = 1000;

/** The time part of a stream entry id, ms. */
const idMs = (id: string) => Number(id.split('-')[0]);

export interface DelayedReading {
  /** The kind of each `delayed` entry of the batch. */
  kinds: ReadonlyMap<StreamEntry, DelayedKind>;
  /**
   * Whether a `delayed` entry of the batch is an attempt's retry; for an `unknown` one, whether
   * its job (read after the entry) started before this relay saw its stream's starts.
   */
  isRetry(e: StreamEntry, startedAt: string | null | undefined): boolean;
  /** Keeps what the batch told, once it is handled: a batch read again reads against the state before it. */
  commit(): void;
}

/** One relay lane's reader of `delayed` entries, over the streams of `queues` (in the lane's order). */
export function delayedReader(queues: readonly string[]) {
  /** Per stream: the job whose `added` entry came last, if it came last of all. */
  const lastAdded: (string | undefined)[] = queues.map(() => undefined);
  /** Per stream: the jobs whose latest entry of their own was `active`. */
  const running = queues.map(() => new Set<string>());
  /** Per stream: the time from which every job's start has been seen. */
  const seenFromMs: (number | undefined)[] = queues.map(() => undefined);

  function read(batch: readonly StreamEntry[]): DelayedReading {
    const kinds = new Map<StreamEntry, DelayedKind>();
    const added = [...lastAdded];
    const seenFrom = [...seenFromMs];
    /** Per stream: the jobs this batch started (true) or stopped (false). */
    const changed = queues.map(() => new Map<string, boolean>());
    for (const e of batch) {
      const i = queues.indexOf(e.queue);
      seenFrom[i] ??= idMs(e.id);
      const afterAdded = added[i] === e.jobId;
      added[i] = e.event === 'added' ? e.jobId : undefined;
      if (!e.jobId) continue;
      if (e.event === 'delayed') {
        const runs = changed[i].get(e.jobId) ?? running[i].has(e.jobId);
        kinds.set(e, afterAdded ? 'submit' : runs ? 'retry' : 'unknown');
      }
      if (e.event === 'active') changed[i].set(e.jobId, true);
      else if (LEFT_ACTIVE.has(e.event)) changed[i].set(e.jobId, false);
    }
    return {
      kinds,
      isRetry(e, startedAt) {
        const kind = kinds.get(e);
        if (kind !== 'unknown') return kind === 'retry';
        const from = seenFrom[queues.indexOf(e.queue)]!;
        return Boolean(startedAt) && Date.parse(startedAt!) < from + CLOCK_SLACK_MS;
      },
      commit() {
        for (const [i, jobs] of changed.entries()) {
          lastAdded[i] = added[i];
          seenFromMs[i] = seenFrom[i];
          for (const [id, runs] of jobs) runs ? running[i].add(id) : running[i].delete(id);
          // Jobs whose leaving entries were trimmed unread would stay for good: start again, and
          // take every job that started before now as unseen.
          if (running[i].size > MAX_RUNNING) {
            running[i].clear();
            seenFromMs[i] = Date.now();
          }
        }
      },
    };
  }

  return { read };
}
