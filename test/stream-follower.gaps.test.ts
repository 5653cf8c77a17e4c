import { Writable } from 'node:stream';
import { closeRedis, createLogger, type Logger, type RedisClient } from '@async-jobs/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StreamConsumer } from '../apps/api/src/events/stream-consumer';
import { createStreamFollower, type StreamFollower } from '../apps/api/src/events/stream-follower';
import { compareIds, type Gap, type StreamEntry } from '../apps/api/src/events/streams';
import { holdFollower } from './follower-hold';
import { createTestContext, testRedis, untilReady, waitFor } from './helpers';

const ctx = createTestContext();
const queue = 'echo';
const stream = ctx.keys.events(queue);
let blocking: RedisClient;
let follower: StreamFollower;

beforeAll(async () => {
  blocking = testRedis({ maxRetriesPerRequest: null });
  await untilReady(blocking);
});
afterEach(async () => {
  await follower?.close();
  await ctx.redis.del(stream);
});
afterAll(async () => {
  await closeRedis(blocking);
  await ctx.cleanup();
});

/** A reader of the test's stream that keeps what it is handed and told. */
async function reader(logger: Logger = createLogger('test', 'silent')) {
  follower = createStreamFollower(blocking, { group: null, queues: [queue], streams: [stream], types: [queue] }, logger);
  const got: StreamEntry[] = [];
  const gaps: Gap[] = [];
  const consumer = {
    positions: await follower.ends(),
    take: (entries: StreamEntry[]) => void got.push(...entries),
    missed: (g: Gap[]) => void gaps.push(...g),
  };
  follower.add(consumer);
  return { got, gaps, ids: () => got.filter((e) => e.event === 'step').map((e) => e.fields.n) };
}

/** A logger whose lines are kept, parsed. */
function keptLog() {
  const lines: { msg: string; gapsSinceLastLine?: number }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger('test', 'info', sink), lines };
}

const append = (n: number | string) => ctx.redis.xadd(stream, '*', 'event', 'step', 'n', String(n));
const nudge = () => ctx.redis.xadd(stream, '*', 'event', 'nudge');

/** Appends `count` entries numbered from `from`, the stream kept to `maxLen` (BullMQ keeps about 10,000). */
async function burst(from: number, count: number, maxLen: number) {
  const pipe = ctx.redis.pipeline();
  for (let i = 0; i < count; i++) pipe.xadd(stream, 'MAXLEN', maxLen, '*', 'event', 'step', 'n', String(from + i));
  await pipe.exec();
}

describe('a stream reader that falls behind', () => {
  it('is told when entries it had not read were trimmed, and from where', async () => {
    await append('first');
    const r = await reader();
    const held = await holdFollower(ctx.redis, follower, nudge);
    const beforeBurst = (await ctx.redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0][0];
    await burst(0, 300, 100);
    await held.release();
    await waitFor(() => r.ids().includes('299'));

    expect(r.gaps).toHaveLength(1);
    const [gap] = r.gaps;
    expect(gap.stream).toBe(stream);
    expect(gap.queue).toBe(queue);
    // Where it stood: no later than the last entry before the burst, which it had read or was about to.
    expect(compareIds(gap.after, beforeBurst)).toBeLessThanOrEqual(0);
    expect(compareIds(gap.after, '0-0')).toBeGreaterThan(0);
    const firstHeld = (await ctx.redis.xrange(stream, '-', '+', 'COUNT', 1))[0][0];
    expect(gap.firstHeld).toBe(firstHeld);
    // What it got after the gap is what the stream held: the last 100 of the burst.
    expect(r.ids().slice(-100)).toEqual(Array.from({ length: 100 }, (_, i) => String(200 + i)));
    expect(r.ids()).not.toContain('0');
  });

  it('is told nothing when the trim took only entries it had read', async () => {
    for (let i = 0; i < 50; i++) await append(i);
    const r = await reader();
    const held = await holdFollower(ctx.redis, follower, nudge);
    // Fewer than the stream keeps: only entries from before the reader started are trimmed.
    await burst(50, 40, 60);
    await held.release();
    await waitFor(() => r.ids().includes('89'));
    expect(r.gaps).toEqual([]);
    expect(r.ids()).toEqual(Array.from({ length: 40 }, (_, i) => String(50 + i)));
  });

  it('is told when a stream that did not exist when it started lost its first entries unread', async () => {
    const r = await reader();
    await expect(follower.ends()).resolves.toEqual(['0-0']);
    // Held before the stream exists: the nudges go to another key, so the reads return on their block time.
    const held = await holdFollower(ctx.redis, follower, () => ctx.redis.xadd(`${stream}:other`, '*', 'n', '1'));
    await burst(0, 30, 10);
    await held.release();
    await waitFor(() => r.ids().includes('29'));
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0].after).toBe('0-0');
    expect(r.ids()).toEqual(Array.from({ length: 10 }, (_, i) => String(20 + i)));
    await ctx.redis.del(`${stream}:other`);
  });

  it('says so in one line per stream per ten seconds however many reads find a gap', async () => {
    await append('first');
    const log = keptLog();
    const r = await reader(log.logger);
    for (const [i, from] of [0, 1000].entries()) {
      const held = await holdFollower(ctx.redis, follower, nudge);
      await burst(from, 300, 100);
      await held.release();
      await waitFor(() => r.ids().includes(String(from + 299)));
      expect(r.gaps).toHaveLength(i + 1);
    }
    const warned = log.lines.filter((l) => l.msg.includes('trimmed before they were read'));
    expect(warned).toHaveLength(1);
  });

  it('starts where a stream trimmed empty ended, and is not told of a gap on every read', async () => {
    await append('gone');
    const last = (await ctx.redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0][0];
    await ctx.redis.xtrim(stream, 'MAXLEN', 0);
    const r = await reader();
    await expect(follower.ends()).resolves.toEqual([last]);
    // Idle through three reads that each waited their block time: every read after such a
    // pause asks what the stream holds, and it holds nothing.
    let reads = 0;
    follower.add({ positions: [last], take: () => undefined, probe: () => void reads++ });
    await waitFor(() => reads >= 4, 10_000);
    expect(r.gaps).toEqual([]);
    for (const n of ['a', 'b', 'c']) {
      await append(n);
      await waitFor(() => r.ids().includes(n));
    }
    expect(r.ids()).toEqual(['a', 'b', 'c']);
    // Its own last entry was trimmed, so the first one after it may look like a gap: once, never again.
    expect(r.gaps.length).toBeLessThanOrEqual(1);
    for (const g of r.gaps) expect(g.firstHeld).toMatch(/^\d+-\d+$/);
  });
});

describe('a reader that moves while the follower waits on its last batch', () => {
  it('is not handed what was read from where it was: its next read starts where it moved to', async () => {
    follower = createStreamFollower(blocking, { group: null, queues: [queue], streams: [stream], types: [queue] }, createLogger('test', 'silent'));
    const taken: string[][] = [];
    let finishFirst!: () => void;
    const consumer: StreamConsumer = {
      positions: await follower.ends(),
      // The first batch is held, as a relay holds one while it publishes.
      take(entries) {
        taken.push(entries.map((e) => e.fields.n));
        if (taken.length === 1) return new Promise<void>((resolve) => (finishFirst = resolve));
      },
    };
    follower.add(consumer);
    await append(1);
    await waitFor(() => taken.length === 1);
    const second = (await append(2))!;
    // Read and assigned, and waiting for the first batch to be handled.
    await waitFor(() => consumer.positions?.[0] === second);
    // The relay lost its lease (it stops), then took it again from what it had saved.
    consumer.positions = null;
    finishFirst();
    consumer.positions = [second];
    follower.kick();
    await append(3);
    await waitFor(() => taken.length >= 2);
    expect(taken).toEqual([['1'], ['3']]);
  });
});
