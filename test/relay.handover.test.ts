import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext, listenToEvents, waitFor, watchEvents } from './helpers';

/**
 * The relay of jobs:events is held by one process at a time and saves how far it got, so
 * a successor starts where its predecessor stopped: what happened while no relay ran is
 * published late, never skipped. Jobs from a plain BullMQ producer are used because the
 * relay announces each of them (`submitted`) with no worker needed.
 */
const ctx = createTestContext();
afterAll(() => ctx.cleanup());

/** Jobs added to echo's (first) queue: with QUEUE_SHARDS its shards are the queues, not `echo`. */
function echoQueue(): Queue {
  const [name] = ctx.keys.queuesOf('echo');
  return new Queue(name, { connection: ctx.redis, prefix: ctx.keys.prefixOf(name) });
}

describe('the event relay handed from one holder to the next', () => {
  it('publishes what happened while no relay ran, and goes on from there', async () => {
    const queue = echoQueue();
    const { heard, close } = await listenToEvents(ctx);
    const submitted = (id: string) => waitFor(() => heard.find((e) => e.id === id && e.event === 'submitted'), 15000);
    try {
      const first = await watchEvents(ctx);
      const a = (await queue.add('echo', { n: 1 })).id!;
      await submitted(a);
      // Several, so that the first holder's last batches are handled together and saved at the end.
      const more = await Promise.all([2, 3, 4].map(async (n) => (await queue.add('echo', { n })).id!));
      for (const id of more) await submitted(id);
      await first.close();

      const whileNone = (await queue.add('echo', { n: 5 })).id!;
      const second = await watchEvents(ctx);
      try {
        await submitted(whileNone);
        const after = (await queue.add('echo', { n: 6 })).id!;
        await submitted(after);
        // Each job announced, in the order of the stream.
        const order = heard.filter((e) => e.event === 'submitted').map((e) => e.id);
        expect([...new Set(order)]).toEqual([a, ...more, whileNone, after]);
      } finally {
        await second.close();
      }
    } finally {
      await queue.close();
      await close();
    }
  });

  it('gives its lease up when it closes, and leaves alone a lease another process has taken', async () => {
    const first = await watchEvents(ctx);
    await waitFor(async () => (await ctx.redis.exists(ctx.keys.relayLease)) === 1);
    await first.close();
    // At once: a successor need not wait for the lease to lapse.
    expect(await ctx.redis.exists(ctx.keys.relayLease)).toBe(0);

    const second = await watchEvents(ctx);
    await waitFor(async () => (await ctx.redis.exists(ctx.keys.relayLease)) === 1);
    await ctx.redis.set(ctx.keys.relayLease, 'another-api', 'PX', 5000);
    await second.close();
    expect(await ctx.redis.get(ctx.keys.relayLease)).toBe('another-api');
    await ctx.redis.del(ctx.keys.relayLease);
  });

  it('keeps its lease while it runs: renewed well before it would lapse, by the same holder', async () => {
    const relay = await watchEvents(ctx);
    try {
      const holder = await waitFor(() => ctx.redis.get(ctx.keys.relayLease));
      // A renewal is the lease's time to live going up from one look to the next; one taken
      // once and never renewed only runs down.
      let last = await ctx.redis.pttl(ctx.keys.relayLease);
      const renewed = () =>
        waitFor(async () => {
          const left = await ctx.redis.pttl(ctx.keys.relayLease);
          const up = left > last;
          last = left;
          return up ? left : null;
        }, 4000);
      for (let renewals = 0; renewals < 2; renewals++) {
        expect(await renewed()).toBeGreaterThan(3000);
        expect(await ctx.redis.get(ctx.keys.relayLease)).toBe(holder);
      }
    } finally {
      await relay.close();
    }
  });

  it('drops, once it holds the lease, callbacks-due entries whose job is gone for good, and keeps the others', async () => {
    const [group] = ctx.keys.groups;
    const due = ctx.keys.callbacksDue(group);
    await ctx.redis.zadd(due, 1, 'gone-for-good', Date.now() + 3_600_000, 'still-due');
    const relay = await watchEvents(ctx);
    try {
      await waitFor(async () => (await ctx.redis.zscore(due, 'gone-for-good')) === null);
      expect(await ctx.redis.zscore(due, 'still-due')).not.toBeNull();
    } finally {
      await relay.close();
      await ctx.redis.del(due);
    }
  });

  it("drops list-index entries older than a job's tombstone whose job is gone, and keeps the others", async () => {
    const [group] = ctx.keys.groupsOf(['sleep']);
    const index = ctx.keys.typeIndex(group, 'sleep');
    const day = 86_400_000;
    // The default RESULT_TTL + TOMBSTONE_TTL is 8 days: past it a job that was not delayed is gone for good.
    const member = (ageMs: number, id: string) => `${String(Date.now() - ageMs).padStart(13, '0')}:0000:${id}`;
    const gone = member(9 * day, 'gone-for-good');
    const delayed = member(9 * day, 'still-delayed');
    const recent = member(day, 'recent-unread');
    await ctx.redis.zadd(index, 0, gone, 0, delayed, 0, recent);
    // A job delayed 30 days keeps its tombstone as long.
    await ctx.redis.hset(ctx.keys.tombstone('sleep', 'still-delayed'), 's', String(Date.now() - 9 * day));
    const relay = await watchEvents(ctx);
    try {
      await waitFor(async () => (await ctx.redis.zscore(index, gone)) === null);
      expect(await ctx.redis.zrange(index, 0, -1)).toEqual([delayed, recent]);
    } finally {
      await relay.close();
      await ctx.redis.del(index, ctx.keys.tombstone('sleep', 'still-delayed'));
    }
  });

  it('sweeps past more live entries than one look at the index takes, in the same round', async () => {
    const [group] = ctx.keys.groupsOf(['hash']);
    const index = ctx.keys.typeIndex(group, 'hash');
    const old = String(Date.now() - 9 * 86_400_000).padStart(13, '0');
    // 1,200 entries of delayed jobs (their tombstones live on), then one whose job is gone.
    const live = Array.from({ length: 1200 }, (_, i) => `live-${String(i).padStart(4, '0')}`);
    const pipe = ctx.redis.pipeline();
    for (const id of live) {
      pipe.zadd(index, 0, `${old}:0000:${id}`);
      pipe.hset(ctx.keys.tombstone('hash', id), 's', old);
    }
    const gone = `${old}:0001:gone-after-many`;
    pipe.zadd(index, 0, gone);
    await pipe.exec();
    const relay = await watchEvents(ctx);
    try {
      await waitFor(async () => (await ctx.redis.zscore(index, gone)) === null);
      expect(await ctx.redis.zcard(index)).toBe(live.length);
    } finally {
      await relay.close();
      await ctx.redis.del(index);
      for (const id of live) await ctx.redis.del(ctx.keys.tombstone('hash', id));
    }
  });

  it('publishes a backlog larger than one publish call, each message once and in stream order', async () => {
    const queue = echoQueue();
    const { heard, close } = await listenToEvents(ctx);
    // Ours only: on a Redis Cluster a `submitted` of the test before can reach this new subscriber late.
    const own = new Set<string>();
    const submitted = () => heard.filter((e) => e.event === 'submitted' && own.has(e.id));
    try {
      // A relay has run (so its positions are saved), then none while 1,200 jobs are added:
      // the next holder reads them in one go and publishes them in a few batched calls.
      await (await watchEvents(ctx)).close();
      const ids: string[] = [];
      for (let k = 0; k < 3; k++) {
        const jobs = await queue.addBulk(Array.from({ length: 400 }, (_, i) => ({ name: 'echo', data: { n: k * 400 + i } })));
        ids.push(...jobs.map((j) => j.id!));
        for (const j of jobs) own.add(j.id!);
      }
      const next = await watchEvents(ctx);
      try {
        await waitFor(() => submitted().length >= ids.length, 30000);
        expect(submitted().map((e) => e.id)).toEqual(ids);
      } finally {
        await next.close();
      }
    } finally {
      await queue.close();
      await close();
    }
  });
});
