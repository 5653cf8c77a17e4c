import { closeRedis, createLogger, type RedisClient } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamFollower } from '../apps/api/src/events/stream-follower';
import type { StreamEntry } from '../apps/api/src/events/streams';
import { createTestContext, testRedis, untilReady, waitFor } from './helpers';
import { recordReads } from './record-reads';

/*
 * Reads that keep up cost nothing beyond the read. What a stream still holds (to tell
 * entries trimmed unread) is asked behind a read only after a pause, a full read, or a
 * move back; a stream that merely brought nothing in the last read is not asked about.
 * Every API process follows every queue's stream, and most of them are quiet at any time.
 */
const ctx = createTestContext();
// One hash tag, so that on a Cluster one XREAD spans them.
const busy = ctx.keys.events('echo');
const quiet = `${busy}:quiet`;
const missing = `${busy}:missing`;
let blocking: RedisClient;

beforeAll(async () => {
  blocking = testRedis({ maxRetriesPerRequest: null });
  await untilReady(blocking);
});
afterAll(async () => {
  await closeRedis(blocking);
  await ctx.redis.del(busy, quiet, missing);
  await ctx.cleanup();
});

describe('a stream follower keeping up with one busy stream among quiet ones', () => {
  it('asks nothing about the quiet streams on reads that follow each other closely', async () => {
    await ctx.redis.del(busy, quiet, missing);
    await ctx.redis.xadd(quiet, '*', 'event', 'old');
    await ctx.redis.xadd(busy, '*', 'event', 'old');
    const follower = createStreamFollower(
      blocking,
      { group: null, queues: ['a', 'b', 'c'], streams: [busy, quiet, missing], types: ['echo', 'echo', 'echo'] },
      createLogger('test', 'silent'),
    );
    const got: StreamEntry[] = [];
    const consumer = { positions: await follower.ends(), take: (entries: StreamEntry[]) => void got.push(...entries) };
    const recorder = recordReads(blocking);
    try {
      follower.add(consumer);
      for (let i = 0; i < 200; i++) await ctx.redis.xadd(busy, '*', 'event', 'step', 'n', String(i));
      await waitFor(() => got.some((e) => e.fields.n === '199'));
    } finally {
      recorder.stop();
      await follower.close();
    }
    // Sent within 10 ms of the read before it (a pause is 20 ms): no reason to ask about any stream.
    const closeOnes = recorder.reads.filter((r, i) => i > 0 && r.at - recorder.reads[i - 1].at < 10);
    expect(closeOnes.length).toBeGreaterThan(5);
    expect(closeOnes.filter((r) => r.asked.length > 0)).toEqual([]);
    expect(got.filter((e) => e.event === 'step')).toHaveLength(200);
  });
});
