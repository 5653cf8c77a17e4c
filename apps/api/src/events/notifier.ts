import type { JobRecord, Logger, Peek, ResultsStore } from '@async-jobs/shared';
import { mayHaveEnded } from './lifecycle';
import { RESYNC_EVENT } from './resync';
import type { StreamConsumer } from './stream-consumer';
import type { StreamFollower } from './stream-follower';
import type { StreamEntry } from './streams';
import { wakeableSleep } from './wakeable-sleep';

/** What a watcher hears: an event of its job, "read again" (something changed that names no job), or shutdown. */
export type Notice = { kind: 'event'; entry: StreamEntry; peeked?: JobRecord } | { kind: 'resync' } | { kind: 'closing' };
export type Watcher = (notice: Notice) => void;
/** Who is watching, for the gauges: a held long-poll or an open event stream. */
export type WatchKind = 'poll' | 'stream';

export interface Notifier {
  /**
   * Calls `watcher` for every notice about job `id` until the returned function is called.
   * With `peek` (whose type may be filled in later, once known) and few such watchers,
   * the job is read right behind each stream read, and an event of it comes with the job
   * as it was then (`peeked`): the watcher need not read it again.
   */
  watch(id: string, kind: WatchKind, watcher: Watcher, peek?: PeekRequest): () => void;
  /** Tells every watcher to read its job again, e.g. after an operator emptied a queue (BullMQ logs no event per job then). */
  resyncAll(): void;
  /** Resolves once the reader knows where each stream ends, so no later event is missed. */
  ready(): Promise<void>;
  watcherCount(kind?: WatchKind): number;
  close(): Promise<void>;
}

/** A job read queued behind a stream read. */
interface Peeked {
  id: string;
  peek: Peek;
}

/** A watcher's wish to have its job read with each stream read; `type` unset: not yet. */
export interface PeekRequest {
  type?: string;
  /**
   * Known not to be running (a submit's own job, or its latest entry put it back in a
   * queue): only an `active` entry comes before it can complete or fail, so reading it
   * behind the reads until then would be wasted (a removal meanwhile is read by readEnded).
   * Once set, the notifier keeps it up to date from the job's entries; left unset (an event
   * stream, which tells every change), the job is read behind every read.
   */
  idle?: boolean;
}

/** Entries after which a job waits to run again (queued, delayed, or waiting for its children); after `active` it runs. */
const TO_IDLE: ReadonlySet<string> = new Set(['waiting', 'delayed', 'waiting-children']);

/**
 * Past this many watchers that want their job read, none is: each read behind the stream
 * read costs Redis one script call per watcher, on every wake-up, which pays only while
 * few wait (a caller holding one request for its result); thousands read their job once
 * their own event comes.
 */
const MAX_PEEKS = 8;

/** The least time between two resyncs for entries trimmed unread or failed reads (resyncSoon). */
const RESYNC_MIN_MS = 1000;

/**
 * The waiters' side of the process's stream follower (stream-follower.ts): fans each
 * entry out in memory to every long-poll and event stream of its job; thousands of
 * waiters cost no extra connection and no Redis reads until their job changes. It
 * starts where each stream ends at creation; positions survive a reconnect, so nothing
 * is missed while Redis is briefly away. Entries BullMQ trimmed before they were read
 * (a burst that outran the reads) and a failed read both tell every waiter to read its
 * job again.
 *
 * With queue groups on a Cluster the process has one follower per group (stream-follower.ts
 * createStreamFollowers); the notifier is a consumer of each, so it hears every group.
 */
export function createNotifier(followers: readonly StreamFollower[], logger: Logger, store?: Pick<ResultsStore, 'peek' | 'readPeeks'>): Notifier {
  const watchers = new Map<string, Set<Watcher>>();
  /** The watchers' peek requests by job id, and how many there are in all. */
  const peeks = new Map<string, Set<PeekRequest>>();
  let peekCount = 0;
  const typeToPeek = (id: string) => {
    for (const req of peeks.get(id) ?? []) if (req.type) return req.type;
    return undefined;
  };
  const allIdle = (reqs: Set<PeekRequest>) => {
    for (const req of reqs) if (!req.idle) return false;
    return true;
  };
  /** Keeps each peek request's `idle` as its job's entries say, in stream order. */
  const noteRunning = (entries: StreamEntry[]) => {
    for (const e of entries) {
      const reqs = e.jobId ? peeks.get(e.jobId) : undefined;
      if (!reqs) continue;
      const idle = e.event === 'active' ? false : TO_IDLE.has(e.event) ? true : undefined;
      if (idle !== undefined) for (const req of reqs) if (req.idle !== undefined) req.idle = idle;
    }
  };
  const counts: Record<WatchKind, number> = { poll: 0, stream: 0 };
  let closed = false;
  /** Ends the sleeps of the retries at start (Redis away): close() must not leave them running. */
  const endRetryPauses: (() => void)[] = [];

  const broadcast = (notice: Notice) => {
    for (const set of watchers.values()) for (const w of [...set]) w(notice);
  };

  const dispatch = (entry: StreamEntry, peeked: Map<string, JobRecord> | undefined) => {
    // BullMQ logs a clean as a count, not per job, and an empty not at all (resync.ts): whoever waits reads again.
    if (entry.event === 'cleaned' || entry.event === RESYNC_EVENT) return broadcast({ kind: 'resync' });
    const set = entry.jobId ? watchers.get(entry.jobId) : undefined;
    if (!set) return;
    const job = peeked?.get(entry.jobId!);
    for (const w of [...set]) w(job ? { kind: 'event', entry, peeked: job } : { kind: 'event', entry });
  };

  /**
   * Of `entries`, the jobs that may have ended and that a watcher would read (its type is
   * known) but were not peeked: one batched read of them all, or undefined for none.
   */
  const readEnded = (entries: StreamEntry[], peeked: Map<string, JobRecord> | undefined) => {
    if (!store || peekCount === 0) return undefined;
    const wanted = new Map<string, Peek>();
    for (const e of entries) {
      const id = e.jobId;
      if (!id || !mayHaveEnded(e) || peeked?.has(id) || wanted.has(id)) continue;
      const type = typeToPeek(id);
      const peek = type ? store.peek(id, type) : null;
      if (peek) wanted.set(id, peek);
    }
    if (wanted.size === 0) return undefined;
    const ids = [...wanted.keys()];
    const read = store
      .readPeeks([...wanted.values()])
      .then((jobs) => {
        const out = new Map(peeked);
        for (const [i, id] of ids.entries()) if (jobs[i]) out.set(id, jobs[i]!);
        return out;
      })
      // The read failed (Redis away): each waiter reads for itself, as it would have.
      .catch(() => peeked);
    return { ids: new Set(ids), read };
  };

  /** One consumer per follower: it hears that follower's streams from where they ended at creation. */
  const follow = (follower: StreamFollower) => {
    const consumer: StreamConsumer = {
      positions: null,
      // Someone waits on a job: its news must come at once.
      pace: () => (watchers.size > 0 ? 'now' : 'calm'),
      // Returns the reads it queued, in order: take() gets them back with their answers.
      probe(pipe): Peeked[] {
        const inFlight: Peeked[] = [];
        if (!store || peekCount === 0 || peekCount > MAX_PEEKS) return inFlight;
        for (const [id, reqs] of peeks) {
          if (allIdle(reqs)) continue;
          const type = typeToPeek(id);
          const peek = type ? store.peek(id, type) : null;
          // On a Cluster a read rides only with its own group's streams (one slot per pipeline).
          if (!peek || (follower.set.group && peek.group !== follower.set.group)) continue;
          peek.queue(pipe);
          inFlight.push({ id, peek });
        }
        return inFlight;
      },
      take(entries, probed) {
        if (peekCount > 0) noteRunning(entries);
        let peeked: Map<string, JobRecord> | undefined;
        if (probed) {
          const { answers } = probed;
          for (const [i, { id, peek }] of (probed.context as Peeked[]).entries()) {
            const job = answers[i] instanceof Error ? null : peek.decode(answers[i]);
            if (!job) continue;
            peeked ??= new Map();
            peeked.set(id, job);
          }
        }
        // Jobs that ended and were not read behind the stream read: read together, in one round
        // trip, rather than each by its own waiter; their news is told once they are read.
        const later = readEnded(entries, peeked);
        if (!later) {
          for (const e of entries) dispatch(e, peeked);
          return;
        }
        for (const e of entries) if (!later.ids.has(e.jobId!)) dispatch(e, peeked);
        return later.read.then((read) => {
          for (const e of entries) if (later.ids.has(e.jobId!)) dispatch(e, read);
        });
      },
    };
    // What the trimmed entries said is lost, or what a failed read may have missed: whoever waits reads their job again.
    consumer.missed = resyncSoon;
    follower.add(consumer);
    follower.onReadFailure(resyncSoon);
    const learn = () =>
      follower.ends().then((p) => {
        if (closed) return;
        consumer.positions = p;
        follower.kick();
      });
    // Redis was away at start: where the streams end is learnt once it is back, and ready()
    // waits for that (it never rejects: nobody need be awaiting it while Redis is away).
    const { sleep: retryPause, wake } = wakeableSleep();
    endRetryPauses.push(wake);
    const started = learn()
      .catch(async (err: Error) => {
        logger.warn({ err: err.message }, 'event stream read failed; retrying');
        for (let failures = 1; !closed && !consumer.positions; failures++) {
          await retryPause(Math.min(100 * failures, 2000));
          if (!closed) await learn().catch(() => undefined);
        }
      })
      // The API listens before this is known: a job that ended between a waiter's read and the
      // moment the streams' ends were learnt has its ending behind where reading starts.
      .then(() => {
        if (!closed && watchers.size > 0) broadcast({ kind: 'resync' });
      });
    return { follower, consumer, started };
  };
  /**
   * A resync after entries were trimmed unread or a read failed: at once, then at most one
   * per RESYNC_MIN_MS (the last one trailing), because a burst that outruns the reads finds a
   * gap on read after read, a Redis outage fails read after read, and each resync is a read
   * of every waiter's job.
   */
  let lastResync = Number.NEGATIVE_INFINITY;
  let resyncTimer: NodeJS.Timeout | undefined;
  const resyncNow = () => {
    resyncTimer = undefined;
    if (closed) return;
    lastResync = performance.now();
    broadcast({ kind: 'resync' });
  };
  function resyncSoon() {
    if (closed || resyncTimer) return;
    const wait = lastResync + RESYNC_MIN_MS - performance.now();
    if (wait <= 0) resyncNow();
    else resyncTimer = setTimeout(resyncNow, wait);
  }

  const consumers = followers.map(follow);
  const started = Promise.all(consumers.map((c) => c.started)).then(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    watch(id, kind, watcher, peek) {
      // Closed (the process shuts down): a request that came in meanwhile is answered now, as held ones were.
      if (closed) {
        queueMicrotask(() => watcher({ kind: 'closing' }));
        return () => undefined;
      }
      let set = watchers.get(id);
      if (!set) {
        set = new Set();
        watchers.set(id, set);
      }
      set.add(watcher);
      counts[kind]++;
      // A follower pausing between reads (nobody was waiting) reads now.
      if (watchers.size === 1 && set.size === 1) for (const c of consumers) c.follower.kick();
      if (peek) {
        let reqs = peeks.get(id);
        if (!reqs) {
          reqs = new Set();
          peeks.set(id, reqs);
        }
        reqs.add(peek);
        peekCount++;
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        counts[kind]--;
        if (peek) {
          const reqs = peeks.get(id);
          if (reqs?.delete(peek)) peekCount--;
          if (reqs?.size === 0) peeks.delete(id);
        }
        set.delete(watcher);
        if (set.size === 0 && watchers.get(id) === set) watchers.delete(id);
      };
    },
    resyncAll: () => broadcast({ kind: 'resync' }),
    ready: () => started,
    watcherCount: (kind) => (kind ? counts[kind] : counts.poll + counts.stream),
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(resyncTimer);
        for (const end of endRetryPauses) end();
        for (const c of consumers) c.follower.remove(c.consumer);
        broadcast({ kind: 'closing' });
      })();
      return closing;
    },
  };
}
