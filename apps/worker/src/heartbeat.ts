import { HEARTBEAT_EVERY_MS, HEARTBEAT_TTL_MS, type Logger, type RedisClient } from '@async-jobs/shared';

/** How long closing waits for the key's deletion. */
const DELETE_WAIT_MS = 1000;

export interface Heartbeat {
  /** Resolves once the first beat is written (or failed: the next one retries). */
  ready: Promise<void>;
  /** Stops beating and deletes the key, so a worker that says goodbye leaves GET /workers at once. */
  close(): Promise<void>;
}

/**
 * Writes `key` = now (ms) with a TTL, every HEARTBEAT_EVERY_MS: the "last seen" of a worker
 * process, and the reason it leaves GET /workers when its machine vanishes without closing
 * its connections (shared/worker-identity.ts says why BullMQ's registry cannot tell).
 */
export function startHeartbeat(redis: RedisClient, key: string, logger: Logger): Heartbeat {
  let inFlight: Promise<void> | undefined;
  const beat = () => {
    // With Redis away, commands wait in the offline queue: one beat waiting is enough.
    inFlight ??= redis
      .set(key, String(Date.now()), 'PX', HEARTBEAT_TTL_MS)
      .then(
        () => {},
        (err: Error) => logger.warn({ err: err.message }, 'worker heartbeat failed'),
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const ready = beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  timer.unref();
  let closing: Promise<void> | undefined;
  return {
    ready,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        // The key lapses by itself: not connected, it is left to; and the deletion is bounded, since
        // with Redis gone meanwhile the commands would wait in the offline queue for as long as it is.
        if (redis.status !== 'ready') return;
        let timeout: NodeJS.Timeout | undefined;
        const gone = Promise.resolve(inFlight).then(() => redis.del(key));
        await Promise.race([gone, new Promise((resolve) => (timeout = setTimeout(resolve, DELETE_WAIT_MS)))]).finally(() => clearTimeout(timeout));
      })();
      return closing;
    },
  };
}
