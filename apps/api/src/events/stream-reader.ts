import type { Logger } from '@async-jobs/shared';
import { RESYNC_EVENT } from './resync';
import type { StreamConsumer, StreamFollower } from './stream-follower';
import type { StreamEntry } from './streams';

/** What a watcher hears: an event of its job, "read again" (something changed that names no job), or shutdown. */
export type Notice = { kind: 'event'; entry: StreamEntry } | { kind: 'resync' } | { kind: 'closing' };
export type Watcher = (notice: Notice) => void;
/** Who is watching, for the gauges: a held long-poll or an open event stream. */
export type WatchKind = 'poll' | 'stream';

export interface Notifier {
  /** Calls `watcher` for every notice about job `id` until the returned function is called. */
  watch(id: string, kind: WatchKind, watcher: Watcher): () => void;
  /** Tells every watcher to read its job again, e.g. after an operator emptied a queue (BullMQ logs no event per job then). */
  resyncAll(): void;
  /** Resolves once the reader knows where each stream ends, so no later event is missed. */
  ready(): Promise<void>;
  watcherCount(kind?: WatchKind): number;
  close(): Promise<void>;
}

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
export function createNotifier(followers: readonly StreamFollower[], logger: Logger): Notifier {
  const watchers = new Map<string, Set<Watcher>>();
  const counts: Record<WatchKind, number> = { poll: 0, stream: 0 };
  let closed = false;

  const broadcast = (notice: Notice) => {
    for (const set of watchers.values()) for (const w of [...set]) w(notice);
  };

  const dispatch = (entry: StreamEntry) => {
    // BullMQ logs a clean as a count, not per job, and an empty not at all (resync.ts): whoever waits reads again.
    if (entry.event === 'cleaned' || entry.event === RESYNC_EVENT) return broadcast({ kind: 'resync' });
    const set = entry.jobId ? watchers.get(entry.jobId) : undefined;
    if (set) for (const w of [...set]) w({ kind: 'event', entry });
  };

  /** One consumer per follower: it hears that follower's streams from where they ended at creation. */
  const follow = (follower: StreamFollower) => {
    const consumer: StreamConsumer = {
      positions: null,
      take(entries) {
        for (const e of entries) dispatch(e);
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
    watch(id, kind, watcher) {
      let set = watchers.get(id);
      if (!set) {
        set = new Set();
        watchers.set(id, set);
      }
      set.add(watcher);
      counts[kind]++;
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        counts[kind]--;
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
