import { Writable } from 'node:stream';
import { createListListener, createPubsubListener, seedListeners } from '@async-jobs/seed';
import { closeRedis, createLogger, createRedis } from '@async-jobs/shared';
import { afterAll, describe, expect, it } from 'vitest';
import type { ListenerContext } from '../apps/worker/src/listener';
import { createTestContext, onCluster, waitFor } from './helpers';

const ctx = createTestContext();
const redis = createRedis(ctx.config(), 'blocking');

afterAll(async () => {
  await closeRedis(redis);
  await ctx.cleanup();
});

/** A listener context whose logger keeps its JSON lines for the test to read. */
function listenerContext(env: Record<string, string> = {}) {
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const config = ctx.config({ LOG_LEVEL: 'info', ...env });
  const lc: ListenerContext = { config, keys: ctx.keys, logger: createLogger('worker', 'info', sink), redis };
  return { lc, lines, taskLines: () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Task get ')) };
}

describe('the list listener', () => {
  it('takes every element off the list, logs "Task get <elem>" and counts them', async () => {
    const { lc, taskLines } = listenerContext();
    const listener = createListListener(lc);
    try {
      await listener.ready;
      await ctx.redis.lpush(ctx.keys.prodconsList, '3', '1', '4');
      await waitFor(() => listener.consumed === 3);
      // LPUSH then BLPOP: the newest element comes out first.
      expect(taskLines().map((l) => l.msg)).toEqual(['Task get 4', 'Task get 1', 'Task get 3']);
      expect(taskLines().every((l) => l.listener === 'list' && /^[0-9]$/.test(l.elem))).toBe(true);
      expect(await ctx.redis.llen(ctx.keys.prodconsList)).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it('closes promptly and only once, and takes nothing after closing', async () => {
    const { lc } = listenerContext();
    const listener = createListListener(lc);
    await listener.ready;
    const started = Date.now();
    const first = listener.close();
    expect(listener.close()).toBe(first);
    await first;
    // CLIENT UNBLOCK ends the wait at once; without it close() would sit out the 1 s BLPOP.
    expect(Date.now() - started).toBeLessThan(800);
    await ctx.redis.lpush(ctx.keys.prodconsList, '7');
    // Nothing is waiting on the list any more, so the element stays.
    expect(await ctx.redis.lrange(ctx.keys.prodconsList, 0, -1)).toEqual(['7']);
    expect(listener.consumed).toBe(0);
    await ctx.redis.del(ctx.keys.prodconsList);
  });
});

describe('the pub/sub listener', () => {
  it('logs and counts every message published on the channel', async () => {
    const { lc, taskLines } = listenerContext();
    const listener = createPubsubListener(lc);
    try {
      await listener.ready;
      for (const m of ['5', '9']) await ctx.redis.publish(ctx.keys.pubsubChannel, m);
      await waitFor(() => listener.consumed === 2);
      const lines = taskLines().map((l) => [l.listener, l.elem, l.msg]);
      // On a Redis Cluster each PUBLISH may reach a different node, and the one relayed over the
      // cluster bus can arrive second: there only the set of messages is certain, not their order.
      if (onCluster) lines.sort((a, b) => a[1].localeCompare(b[1]));
      expect(lines).toEqual([
        ['pubsub', '5', 'Task get 5'],
        ['pubsub', '9', 'Task get 9'],
      ]);
    } finally {
      await listener.close();
    }
    expect(await listener.close()).toBeUndefined();
    // Its connection is gone: nobody receives what is published now.
    expect(await ctx.redis.publish(ctx.keys.pubsubChannel, '1')).toBe(0);
  });
});

describe('LIST_LISTENER and PUBSUB_LISTENER', () => {
  it('turn each listener off', async () => {
    const started = async (env: Record<string, string>) => {
      const { lc } = listenerContext(env);
      const listeners = seedListeners(lc.config).map((start) => start(lc));
      await Promise.all(listeners.map((l) => l.close()));
      return listeners.map((l) => l.name);
    };
    expect(await started({})).toEqual(['list', 'pubsub']);
    expect(await started({ LIST_LISTENER: 'false' })).toEqual(['pubsub']);
    expect(await started({ PUBSUB_LISTENER: 'false' })).toEqual(['list']);
    expect(await started({ LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' })).toEqual([]);
  });
});
