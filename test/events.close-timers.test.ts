import { createHook } from 'node:async_hooks';
import { Queue } from 'bullmq';
import { CALLBACK_QUEUE, closeRedis, createLogger, createResultsStore, jobTypeNames, type RedisClient } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRelay } from '../apps/api/src/events/relay';
import { createStreamFollower } from '../apps/api/src/events/stream-follower';
import { createStreamFollowers } from '../apps/api/src/events/stream-followers';
import { createNotifier } from '../apps/api/src/events/notifier';
import { createTestContext, testRedis, untilReady } from './helpers';
import { quietFollower } from './quiet-follower';

/**
 * Closing the API's event machinery leaves no timer behind: a process that closed what it
 * opened exits at once, and a test that closed it is not held open. Each close gives its
 * loop a moment to finish; the timer bounding that moment must go when the loop finishes first.
 */
const ctx = createTestContext();
const silent = createLogger('test', 'silent');
let blocking: RedisClient;
let command: RedisClient;

beforeAll(async () => {
  blocking = testRedis({ maxRetriesPerRequest: null });
  command = testRedis({ maxRetriesPerRequest: 1 });
  await Promise.all([untilReady(blocking), untilReady(command)]);
});
afterAll(async () => {
  await Promise.all([closeRedis(blocking), closeRedis(command)]);
  await ctx.cleanup();
});

/**
 * The timers that the API's own code (apps/api/src) creates from now on and that are still
 * pending: counted by their creator, so that the test runner's timers, and those of the
 * libraries underneath, do not count.
 */
function apiTimers() {
  const pending = new Set<number>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      // The first frame that is neither this hook nor Node's own: where setTimeout was called.
      const caller = (new Error().stack ?? '')
        .split('\n')
        .slice(1)
        .find((l) => !l.includes('node:') && !l.includes('close-timers.test'));
      if (caller?.includes('/apps/api/src/')) pending.add(id);
    },
    destroy(id) {
      pending.delete(id);
    },
  });
  hook.enable();
  // Node runs destroy hooks a turn after a timer is cleared or fires: counted after that turn.
  const count = async () => {
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    return pending.size;
  };
  return { count, stop: () => hook.disable() };
}

describe('closing the event readers', () => {
  it('leaves no timer behind when the stream follower was idle', async () => {
    const timers = apiTimers();
    try {
      const stream = ctx.keys.events('echo');
      const follower = createStreamFollower(blocking, { group: null, queues: ['echo'], streams: [stream], types: ['echo'] }, silent);
      // Idle: nobody follows, so it sleeps on a timer of its own until closed.
      expect(await timers.count()).toBe(1);
      await follower.close();
      expect(await timers.count()).toBe(0);
    } finally {
      timers.stop();
    }
  });

  it('leaves no timer behind when the relay closes, even while it is taking its lease', async () => {
    const config = ctx.config();
    const callbackQueue = new Queue(CALLBACK_QUEUE, { connection: command, prefix: ctx.keys.prefixOf(CALLBACK_QUEUE) });
    const store = createResultsStore({ redis: command, keys: ctx.keys, resultTtlSeconds: config.RESULT_TTL_SECONDS, types: jobTypeNames });
    const relayBlocking = testRedis({ maxRetriesPerRequest: null });
    try {
      await untilReady(relayBlocking);
      const timers = apiTimers();
      const followers = createStreamFollowers(relayBlocking, ctx.keys, jobTypeNames, silent);
      const relay = createRelay({
        config,
        keys: ctx.keys,
        redis: command,
        followers: followers.all,
        store,
        callbackQueue,
        types: jobTypeNames,
        logger: silent,
      });
      // Closed at once: its first lease call is still in flight, so there is no sleep yet for close() to end.
      await relay.close();
      await followers.close();
      const left = await timers.count();
      timers.stop();
      expect(left).toBe(0);
    } finally {
      relayBlocking.disconnect();
      await callbackQueue.close();
    }
  });

  it("leaves no timer behind when the waiters' notifier closes while Redis is away", async () => {
    // Its retries sleep between tries: faked, so that the timers pending are exactly the notifier's.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let asked = 0;
      // Where the streams end cannot be learnt (Redis away): the notifier retries, sleeping between tries.
      const away = quietFollower(async () => {
        asked++;
        throw new Error('Connection is closed.');
      });
      const notifier = createNotifier([away.follower], silent);
      await vi.advanceTimersByTimeAsync(100);
      expect(asked).toBe(2);
      expect(vi.getTimerCount()).toBe(1);
      await notifier.close();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(5000);
      expect(asked).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
