import { parseEvent, peekEvent, type EventHead, type JobEvent, type Logger, type RedisClient } from '@async-jobs/shared';

/** What a watcher hears: an event of its job, a reconnect (re-read, events may be lost), or shutdown. */
export type Notice = { kind: 'event'; event: JobEvent } | { kind: 'resync' } | { kind: 'closing' };
export type Watcher = (notice: Notice) => void;
/** Who is watching, for the gauges: a held long-poll or an open event stream. */
export type WatchKind = 'poll' | 'stream';

export interface Notifier {
  /** Calls `watcher` for every notice about job `id` until the returned function is called. */
  watch(id: string, kind: WatchKind, watcher: Watcher): () => void;
  /** Called with every event of every job (metrics). */
  onAnyEvent(listener: (e: EventHead) => void): void;
  /** Resolves once the subscription is in place. */
  ready(): Promise<void>;
  watcherCount(kind?: WatchKind): number;
  close(): Promise<void>;
}

/**
 * One subscriber connection per API process, fanned out in memory to every
 * long-poll and event stream; thousands of waiters cost no extra connection and
 * no Redis reads until their job changes.
 */
export function createNotifier(subscriber: RedisClient, channel: string, logger: Logger): Notifier {
  const watchers = new Map<string, Set<Watcher>>();
  const anyListeners: ((e: EventHead) => void)[] = [];
  const counts: Record<WatchKind, number> = { poll: 0, stream: 0 };

  const broadcast = (notice: Notice) => {
    for (const set of watchers.values()) for (const w of [...set]) w(notice);
  };

  const onMessage = (ch: string, raw: string) => {
    if (ch !== channel) return;
    // Parsed whole only when someone watches the job.
    const peeked = peekEvent(raw);
    const parsed = peeked ? null : parseEvent(raw);
    const head = peeked ?? parsed;
    if (!head) return;
    for (const l of anyListeners) l(head);
    const set = watchers.get(head.id);
    if (!set) return;
    const event = parsed ?? parseEvent(raw);
    if (event) for (const w of [...set]) w({ kind: 'event', event });
  };
  // After a reconnect ioredis re-subscribes by itself, but what was published meanwhile is lost.
  let connectedOnce = false;
  const onReady = () => {
    if (connectedOnce) broadcast({ kind: 'resync' });
    connectedOnce = true;
  };
  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);
  if (subscriber.status === 'ready') connectedOnce = true;
  const subscribed = subscriber.subscribe(channel).then(
    () => undefined,
    (err: Error) => logger.warn({ err: err.message }, 'subscribe failed; will retry on reconnect'),
  );

  let closing: Promise<void> | undefined;
  return {
    watch(id, kind, watcher) {
      let set = watchers.get(id);
      if (!set) watchers.set(id, (set = new Set()));
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
    onAnyEvent(listener) {
      anyListeners.push(listener);
    },
    ready: () => subscribed,
    watcherCount: (kind) => (kind ? counts[kind] : counts.poll + counts.stream),
    close() {
      closing ??= (async () => {
        broadcast({ kind: 'closing' });
        subscriber.off('message', onMessage);
        subscriber.off('ready', onReady);
        // With Redis gone the command would wait for a reconnect forever; the owner drops the connection anyway.
        if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => undefined);
      })();
      return closing;
    },
  };
}
