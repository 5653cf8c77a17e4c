import { createKeyspace } from '@async-jobs/shared';
import { Redis } from 'ioredis';
import { compareIds } from '../../apps/api/src/events/streams';
import { NAMESPACE } from './ours';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keys = createKeyspace(NAMESPACE);

/**
 * Resolves once the API's relay has read `type`'s event stream to its end (its saved
 * position has reached the newest entry), so that what it still has to do for one
 * measurement is not charged to the next. Returns how long that took, in ms.
 */
export async function relayCaughtUp(redis: Redis, type = 'echo', timeoutMs = 120000): Promise<number> {
  const stream = keys.events(type);
  const started = performance.now();
  for (;;) {
    const [last] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const at = await redis.hget(keys.relayPositions(keys.layout.groupOfQueue(type)), stream);
    if (!last || (at && compareIds(at, last[0]) >= 0)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`relay: still at ${at} of ${stream}, which ends at ${last[0]}, after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Resolves once a freshly started API's relay follows `queue`: it has saved a position in
 * its stream. A relay that starts after the stream has entries starts at its end and saves
 * nothing until the next entry, so pause and resume (an entry each) until it has.
 */
export async function relayFollowing(redis: Redis, queue: { name: string; pause(): Promise<void>; resume(): Promise<void> }, timeoutMs = 30000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await redis.hget(keys.relayPositions(keys.layout.groupOfQueue(queue.name)), keys.events(queue.name)))) {
    if (performance.now() > deadline) throw new Error(`relay: no position saved for ${queue.name} within ${timeoutMs} ms`);
    await queue.pause();
    await queue.resume();
    await sleep(50);
  }
}

export interface EventsListener {
  /** `completed` messages heard on jobs:events so far. */
  completed(): number;
  /** Waits (up to `ms`) until `n` completions were heard. */
  until(n: number, ms: number): Promise<number>;
  close(): void;
}

/** A subscriber of jobs:events, as any client of the raw channel would be; it counts completions. */
export async function listenToEvents(url: string): Promise<EventsListener> {
  const sub = new Redis(url, { maxRetriesPerRequest: null });
  let completed = 0;
  sub.on('message', (_channel: string, message: string) => {
    if (message.includes('"event":"completed"')) completed++;
  });
  await sub.subscribe(keys.eventsChannel);
  return {
    completed: () => completed,
    async until(n, ms) {
      const deadline = performance.now() + ms;
      while (completed < n && performance.now() < deadline) await sleep(20);
      return completed;
    },
    close: () => sub.disconnect(),
  };
}
