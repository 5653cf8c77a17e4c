import type { JobRecord, Logger, Peek, ResultsStore } from '@async-jobs/shared';
import { RESYNC_EVENT } from './resync';
import type { StreamConsumer, StreamFollower } from './stream-follower';
import type { StreamEntry } from './streams';

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

/** A watcher's wish to have its job read with each stream read; `type` unset: not yet. */
export interface PeekRequest {
  type?: string;
}

/**
 * Past this many watchers that want their job read, none is: each read behind the stream
 * read costs Redis one script call per watcher, on every wake-up, which pays only while
 * few wait (a caller holding one request for its result); thousands read their job once
 * their own event comes.
 */
const MAX_PEEKS = 8;

/**
 * The waiters' side of the process's stream follower (stream-follower.ts): fans each
 * entry out in memory to every long-poll and event stream of its job; thousands of
 * waiters cost no extra connection and no Redis reads until their job changes. It
 * starts where each stream ends at creation; positions survive a reconnect, so nothing
 * is missed while Redis is briefly away (unless BullMQ trimmed it meanwhile).
 *
 * With queue groups on a Cluster the process has one follower per group (stream-follower.ts
 * createStreamFollowers); the notifier is a consumer of each, so it hears every group.
 */
export function createNotifier(followers: readonly StreamFollower[], logger: Logger, store?: Pick<ResultsStore, 'peek'>): Notifier {
  const watchers = new Map<string, Set<Watcher>>();
  const peeks = new Map<PeekRequest, string>();
  const counts: Record<WatchKind, number> = { poll: 0, stream: 0 };
  let closed = false;

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

  /** One consumer per follower: it hears that follower's streams from where they ended at creation. */
  const follow = (follower: StreamFollower) => {
    // The reads queued behind the read in flight (one at a time per follower), in probe order.
    let inFlight: { id: string; peek: Peek }[] = [];
    const consumer: StreamConsumer = {
      positions: null,
      // Someone waits on a job: its news must come at once.
      urgent: () => watchers.size > 0,
      probe(pipe) {
        inFlight = [];
        if (!store || peeks.size === 0 || peeks.size > MAX_PEEKS) return;
        for (const [req, id] of peeks) {
          const peek = req.type ? store.peek(id, req.type) : null;
          // On a Cluster a read rides only with its own group's streams (one slot per pipeline).
          if (!peek || (follower.set.group && peek.group !== follower.set.group)) continue;
          peek.queue(pipe);
          inFlight.push({ id, peek });
        }
      },
      take(entries, probed) {
        let peeked: Map<string, JobRecord> | undefined;
        if (probed && probed.length === inFlight.length) {
          for (const [i, { id, peek }] of inFlight.entries()) {
            const job = probed[i] instanceof Error ? null : peek.decode(probed[i]);
            if (!job) continue;
            peeked ??= new Map();
            peeked.set(id, job);
          }
        }
        for (const e of entries) dispatch(e, peeked);
      },
    };
    follower.add(consumer);
    follower.onReadFailure(() => {
      if (!closed) broadcast({ kind: 'resync' });
    });
    const learn = () =>
      follower.ends().then((p) => {
        if (closed) return;
        consumer.positions = p;
        follower.kick();
      });
    // Redis was away at start: where the streams end is learnt once it is back, and ready()
    // waits for that (it never rejects: nobody need be awaiting it while Redis is away).
    const started = learn().catch(async (err: Error) => {
      logger.warn({ err: err.message }, 'event stream read failed; retrying');
      for (let failures = 1; !closed && !consumer.positions; failures++) {
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 2000)));
        if (!closed) await learn().catch(() => undefined);
      }
      if (!closed) broadcast({ kind: 'resync' });
    });
    return { follower, consumer, started };
  };
  const consumers = followers.map(follow);
  const started = Promise.all(consumers.map((c) => c.started)).then(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    watch(id, kind, watcher, peek) {
      let set = watchers.get(id);
      if (!set) {
        set = new Set();
        watchers.set(id, set);
      }
      set.add(watcher);
      counts[kind]++;
      // A follower pausing between reads (nobody was waiting) reads now.
      if (watchers.size === 1 && set.size === 1) for (const c of consumers) c.follower.kick();
      if (peek) peeks.set(peek, id);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        counts[kind]--;
        if (peek) peeks.delete(peek);
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
        for (const c of consumers) c.follower.remove(c.consumer);
        broadcast({ kind: 'closing' });
      })();
      return closing;
    },
  };
}
