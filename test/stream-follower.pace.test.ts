import { closeRedis, createLogger, type RedisClient } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pace, StreamConsumer } from '../apps/api/src/events/stream-consumer';
import { createStreamFollower } from '../apps/api/src/events/stream-follower';
import type { StreamEntry } from '../apps/api/src/events/streams';
import { createTestContext, testRedis, untilReady, waitFor } from './helpers';
import { recordReads } from './record-reads';

/*
 * How soon the follower reads again after a read that brought news: at once for a request
 * waiting on a job, a few milliseconds later for a subscriber or a callback (so that under
 * load a read takes many entries), 50 ms later when nobody wants news.
 */
const ctx = createTestContext();
const stream = ctx.keys.events('echo');
let blocking: RedisClient;

beforeAll(async () => {
  blocking = testRedis({ maxRetriesPerRequest: null });
  await untilReady(blocking);
});
afterAll(async () => {
  await closeRedis(blocking);
  await ctx.redis.del(stream);
  await ctx.cleanup();
});

/**
 * Follows the stream with consumers of `paces` while 150 entries are added one after another,
 * about a millisecond apart; returns the times between one read's sending and the next's.
 */
async function gapsBetweenReads(paces: Pace[]): Promise<number[]> {
  await ctx.redis.del(stream);
  const follower = createStreamFollower(blocking, { group: null, queues: ['echo'], streams: [stream], types: ['echo'] }, createLogger('test', 'silent'));
  const start = await follower.ends();
  const got = paces.map(() => [] as StreamEntry[]);
  const consumers: StreamConsumer[] = paces.map((p, i) => ({ positions: start.slice(), take: (e) => void got[i].push(...e), pace: () => p }));
  const recorder = recordReads(blocking);
  try {
    for (const c of consumers) follower.add(c);
    for (let i = 0; i < 150; i++) {
      await ctx.redis.xadd(stream, '*', 'event', 'step', 'n', String(i));
      await new Promise((r) => setTimeout(r, 1));
    }
    await waitFor(() => got.every((g) => g.length === 150));
  } finally {
    recorder.stop();
    await follower.close();
  }
  const sent = recorder.reads.map((r) => r.at);
  return sent.slice(1).map((at, i) => at - sent[i]);
}

describe('a stream follower between reads', () => {
  it('reads again at once for a consumer that wants news now', async () => {
    const gaps = await gapsBetweenReads(['now']);
    expect(gaps.filter((g) => g < 4).length).toBeGreaterThan(10);
  });

  it('waits about 5 ms for one that wants it soon, and so takes several entries a read', async () => {
    const gaps = await gapsBetweenReads(['soon']);
    // Node may fire a 5 ms timer a fraction of a millisecond early.
    expect(gaps.filter((g) => g < 4)).toEqual([]);
    expect(gaps.length).toBeLessThan(75);
  });

  it('goes by the most pressed consumer it serves', async () => {
    const gaps = await gapsBetweenReads(['calm', 'soon']);
    expect(gaps.filter((g) => g < 4)).toEqual([]);
    expect(gaps.filter((g) => g < 40).length).toBeGreaterThan(3);
  });
});
