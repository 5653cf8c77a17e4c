import type { Keyspace, Logger, RedisClient } from '@async-jobs/shared';
import { RESYNC_EVENT } from './resync';
import { readStreams, streamPositions, type StreamEntry } from './streams';

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
 * One reader per API process follows every queue's BullMQ event stream (XREAD on one
 * blocking connection) and fans out in memory to every long-poll and event stream;
 * thousands of waiters cost no extra connection and no Redis reads until their job
 * changes. Stream positions survive a reconnect, so nothing is missed while Redis is
 * briefly away (unless BullMQ trimmed it meanwhile).
 */
export function createNotifier(blocking: RedisClient, keys: Keyspace, types: readonly string[], logger: Logger): Notifier {
  const watchers = new Map<string, Set<Watcher>>();
  const counts: Record<WatchKind, number> = { poll: 0, stream: 0 };
  const streams = types.map((t) => keys.events(t));
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

  let positions: string[] = [];
  const started = streamPositions(blocking, streams).then((p) => {
    positions = p;
  });
  const loop = (async () => {
    await started.catch(() => undefined);
    let failures = 0;
    while (!closed) {
      try {
        // Redis was away at start: where the streams end is learnt once it is back.
        if (positions.length === 0) positions = await streamPositions(blocking, streams);
        const batch = await readStreams(blocking, streams, positions, types);
        failures = 0;
        for (const e of batch) dispatch(e);
      } catch (err) {
        if (closed) break;
        // Redis away: ioredis reconnects; a watcher may have missed an event that was trimmed meanwhile.
        if (failures++ === 0) logger.warn({ err: (err as Error).message }, 'event stream read failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 2000)));
        if (!closed) broadcast({ kind: 'resync' });
      }
    }
  })();

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
        broadcast({ kind: 'closing' });
        // The read in flight ends within its block time, or when the owner drops the connection.
        await Promise.race([loop, new Promise((r) => setTimeout(r, 50))]);
      })();
      return closing;
    },
  };
}
